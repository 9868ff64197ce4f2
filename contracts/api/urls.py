"""Contracts: API routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .views import ContractViewSet

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="contract")

urlpatterns = router.urls
