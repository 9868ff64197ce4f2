"""Help desk: HTML routes."""

from django.urls import path

from . import views

app_name = "helpdesk"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("new/<str:category>/", views.new_category, name="new_category"),
    path("new/<str:category>/answer/", views.self_service, name="self_service"),
    path("t/<str:reference>/", views.ticket_detail, name="ticket"),
    path("t/<str:reference>/comment/", views.comment, name="comment"),
    path("t/<str:reference>/do/<str:action>/", views.act, name="act"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("rate/<str:token>/", views.rate, name="rate"),
    path("data-changes/", views.data_changes, name="data_changes"),
    path("data-changes/<int:pk>/<str:decision>/", views.data_change_decide, name="data_change_decide"),
    path("metrics/", views.metrics_view, name="metrics"),
    path("metrics/export/", views.metrics_export, name="metrics_export"),
    path("mail/", views.mail_log, name="mail_log"),
    path("inbound/mail/", views.inbound_mail, name="inbound_mail"),
]
