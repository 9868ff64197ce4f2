"""Receivables: HTML routes (/receivables/)."""

from django.urls import path

from . import views
from .aging.urls import urlpatterns as aging_urlpatterns
from .views.statements import statement_download

app_name = "receivables"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("receipts/new/", views.receipt_new, name="receipt_new"),
    path("receipts/<int:pk>/", views.receipt_detail, name="receipt_detail"),
    path("receipts/<int:pk>/accept/", views.receipt_accept, name="receipt_accept"),
    path("receipts/accept-selected/", views.receipts_accept_selected, name="receipts_accept_selected"),
    path("receipts/<int:pk>/suggest/", views.receipt_suggest_again, name="receipt_suggest"),
    path("receipts/<int:pk>/invoices/", views.receipt_invoice_search, name="receipt_invoice_search"),
    path("receipts/<int:pk>/split/", views.receipt_split, name="receipt_split"),
    path("receipts/<int:pk>/identify/", views.receipt_identify_view, name="receipt_identify"),
    path("receipts/<int:pk>/on-account/", views.receipt_on_account_view, name="receipt_on_account"),
    path("receipts/<int:pk>/refund/", views.receipt_refund_view, name="receipt_refund"),
    path("receipts/<int:pk>/reverse/", views.receipt_reverse_view, name="receipt_reverse"),
    path("applications/<int:pk>/reverse/", views.application_reverse_view, name="application_reverse"),
    path("customers/", views.customer_options, name="customer_options"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("bank-accounts/", views.bank_accounts, name="bank_accounts"),
    path("customers/<int:customer_id>/statement.pdf", statement_download, name="customer_statement"),
    *aging_urlpatterns,
]
