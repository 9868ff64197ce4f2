"""Receivables: API routes under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CustomerStatementView, ReceiptViewSet

router = SimpleRouter()
router.register("receipts", ReceiptViewSet, basename="receipt")

urlpatterns = [
    path("customers/<int:pk>/statement.pdf", CustomerStatementView.as_view(), name="customer-statement-pdf"),
    *router.urls,
]
