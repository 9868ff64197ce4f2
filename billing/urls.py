"""Billing: HTML routes."""

from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/new/customers/", views.customer_options, name="invoice_customer_options"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/issue/", views.invoice_issue_view, name="invoice_issue"),
    path("invoices/<int:pk>/hold/", views.invoice_hold_view, name="invoice_hold"),
    path("invoices/<int:pk>/release/", views.invoice_release_view, name="invoice_release"),
    path("invoices/<int:pk>/send-again/", views.invoice_send_again_view, name="invoice_send_again"),
    path("invoices/<int:pk>/void/", views.invoice_void_view, name="invoice_void"),
    path("invoices/<int:pk>/invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/ubl.xml", views.invoice_ubl, name="invoice_ubl"),
    path("invoices/<int:pk>/cxml.xml", views.invoice_cxml, name="invoice_cxml"),
    path("invoices/<int:pk>/credit-note/", views.credit_note_request_view, name="credit_note_request"),
    path("credit-notes/", views.credit_note_list, name="credit_notes"),
    path("credit-notes/<int:pk>/", views.credit_note_detail, name="credit_note_detail"),
    path("credit-notes/<int:pk>/approve/", views.credit_note_approve_view, name="credit_note_approve"),
    path("credit-notes/<int:pk>/reject/", views.credit_note_reject_view, name="credit_note_reject"),
    path("credit-notes/<int:pk>/issue/", views.credit_note_issue_view, name="credit_note_issue"),
    path("credit-notes/<int:pk>/credit-note.pdf", views.credit_note_pdf, name="credit_note_pdf"),
    path("credit-notes/<int:pk>/ubl.xml", views.credit_note_ubl, name="credit_note_ubl"),
    path("credit-notes/<int:pk>/cxml.xml", views.credit_note_cxml, name="credit_note_cxml"),
    path("portal/", views.portal_worklist_view, name="portal"),
    path("portal/<int:pk>/uploaded/", views.portal_mark_uploaded_view, name="portal_mark_uploaded"),
    path("portal/<int:pk>/accept/", views.portal_accept_view, name="portal_accept"),
    path("portal/<int:pk>/reject/", views.portal_reject_view, name="portal_reject"),
    path("portal/<int:pk>/resubmit/", views.portal_resubmit_view, name="portal_resubmit"),
    path("runs/", views.run_list, name="runs"),
    path("runs/start/", views.run_start_view, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:pk>/issue/", views.run_issue_view, name="run_issue"),
]
