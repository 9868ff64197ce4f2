"""Billing: HTML routes."""

from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/issue/", views.invoice_issue_view, name="invoice_issue"),
    path("invoices/<int:pk>/hold/", views.invoice_hold_view, name="invoice_hold"),
    path("invoices/<int:pk>/release/", views.invoice_release_view, name="invoice_release"),
    path("invoices/<int:pk>/void/", views.invoice_void_view, name="invoice_void"),
    path("invoices/<int:pk>/invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/ubl.xml", views.invoice_ubl, name="invoice_ubl"),
    path("runs/", views.run_list, name="runs"),
    path("runs/start/", views.run_start_view, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:pk>/issue/", views.run_issue_view, name="run_issue"),
]
