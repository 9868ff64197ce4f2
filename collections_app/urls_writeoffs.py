"""Write-off pages under /collections/write-offs/."""

from django.urls import path

from .views import writeoffs as views

urlpatterns = [
    path("write-offs/", views.writeoff_list, name="writeoffs-list"),
    path("write-offs/request/", views.writeoff_request_view, name="writeoffs-request"),
    path("write-offs/<int:pk>/", views.writeoff_detail_view, name="writeoffs-detail"),
    path("write-offs/<int:pk>/<str:action>/", views.writeoff_action, name="writeoffs-action"),
    path("write-offs/<int:pk>/evidence/<int:attachment_id>/", views.writeoff_attachment, name="writeoffs-attachment"),
    path("write-offs/batches/", views.batch_list, name="writeoffs-batches"),
    path("write-offs/batches/propose/", views.batch_propose, name="writeoffs-batch-propose"),
    path("write-offs/batches/<int:pk>/", views.batch_detail, name="writeoffs-batch"),
    path("write-offs/batches/<int:pk>/<str:action>/", views.batch_action, name="writeoffs-batch-action"),
    path("write-offs/policy/<int:entity_id>/", views.policy_view, name="writeoffs-policy"),
]
