"""Aging, KPIs, snapshots and report packs under /receivables/ (included by receivables/urls.py)."""

from django.urls import path

from . import views, views_kpis, views_reports, views_snapshots

urlpatterns = [
    path("aging/", views.aging, name="aging"),
    path("aging/customers/<int:customer_id>/", views.customer_items, name="aging_customer"),
    path("aging/buckets/", views.bucket_settings, name="aging_buckets"),
    path("aging/buckets/<int:entity_id>/", views.bucket_settings_save, name="aging_buckets_save"),
    path("aging/snapshots/", views_snapshots.snapshot_runs, name="aging_snapshots"),
    path("aging/snapshots/start/", views_snapshots.snapshot_start, name="aging_snapshot_start"),
    path("aging/snapshots/<int:pk>/", views_snapshots.snapshot_run, name="aging_snapshot_run"),
    path("aging/snapshots/<int:pk>/resume/", views_snapshots.snapshot_resume, name="aging_snapshot_resume"),
    path("kpis/", views_kpis.kpis, name="kpis"),
    path("reports/", views_reports.report_packs, name="ar_reports"),
    path("reports/generate/", views_reports.report_pack_generate, name="ar_report_generate"),
    path("reports/<int:pk>/<str:fmt>/", views_reports.report_pack_download, name="ar_report_download"),
]
