"""/api/v1/: every app's API routes plus the OpenAPI schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from .lookups import SalesRepViewSet

router = SimpleRouter()
router.register("sales-reps", SalesRepViewSet, basename="sales-rep")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("customers.api.urls")),
    path("", include("ledger.api.urls")),
    path("", include("contracts.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("receivables.api.urls")),
    *router.urls,
]
