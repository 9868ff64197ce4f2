"""/api/v1/: every app's API routes plus the OpenAPI schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from .lookups import SalesRepViewSet
from .webhooks import DeliveryViewSet, EventTypesView, SubscriptionViewSet

router = SimpleRouter()
router.register("sales-reps", SalesRepViewSet, basename="sales-rep")
router.register("webhooks/subscriptions", SubscriptionViewSet, basename="webhook-subscription")
router.register("webhooks/deliveries", DeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its setup script as a file, so the Content-Security-Policy needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("customers.api.urls")),
    path("", include("ledger.api.urls")),
    path("", include("contracts.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("receivables.api.urls")),
    path("", include("helpdesk.api.urls")),
    path("", include("collections_app.api.urls")),
    path("webhooks/event-types/", EventTypesView.as_view(), name="webhook-event-types"),
    *router.urls,
]
