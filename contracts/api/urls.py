"""Contracts: API routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .lookups import ProductViewSet
from .views import ContractViewSet

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="contract")
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
