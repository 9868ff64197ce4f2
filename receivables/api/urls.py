"""Receivables: API routes under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ..aging.api import AgingReportView, KpiReportView
from .views import CustomerStatementView, ReceiptViewSet

router = SimpleRouter()
router.register("receipts", ReceiptViewSet, basename="receipt")

urlpatterns = [
    path("customers/<int:pk>/statement.pdf", CustomerStatementView.as_view(), name="customer-statement-pdf"),
    path("reports/aging/", AgingReportView.as_view(), name="report-aging"),
    path("reports/kpis/", KpiReportView.as_view(), name="report-kpis"),
    *router.urls,
]
