"""Routes of the worklist, customer collections page, disputes, promises and manager's view."""

from django.urls import path

from .views import worklist as views

urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("reassign/", views.reassign_view, name="reassign"),
    path("customers/<int:customer_id>/", views.customer_view, name="customer"),
    path("customers/<int:customer_id>/activity/", views.activity_log_view, name="activity_log"),
    path("customers/<int:customer_id>/disputes/", views.dispute_open_view, name="dispute_open"),
    path("customers/<int:customer_id>/plan/", views.plan_create_view, name="plan_create"),
    path("customers/<int:customer_id>/statement/", views.statement_send_view, name="statement_send"),
    path("disputes/<int:dispute_id>/<str:action>/", views.dispute_action_view, name="dispute_action"),
    path("promises/<int:promise_id>/cancel/", views.promise_cancel_view, name="promise_cancel"),
    path("manager/", views.manager_view, name="manager"),
    path("manager/rules/", views.rules_view, name="rules"),
]
