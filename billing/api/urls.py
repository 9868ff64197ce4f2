"""Billing: API routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .views import CreditNoteViewSet, InvoiceViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("credit-notes", CreditNoteViewSet, basename="credit-note")

urlpatterns = router.urls
