"""API routes of the worklist, disputes and promises."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .worklist import CustomerCollectionsView, DisputeViewSet, PromiseViewSet

router = SimpleRouter()
router.register("disputes", DisputeViewSet, basename="dispute")
router.register("promises", PromiseViewSet, basename="promise")

urlpatterns = [
    path("customers/<int:pk>/collections/", CustomerCollectionsView.as_view(), name="customer-collections"),
    *router.urls,
]
