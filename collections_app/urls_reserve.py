"""Bad-debt reserve pages under /collections/reserve/."""

from django.urls import path

from collections_app.views import reserve as views

urlpatterns = [
    path("reserve/", views.runs, name="reserve_runs"),
    path("reserve/prepare/", views.run_prepare, name="reserve_prepare"),
    path("reserve/runs/<int:pk>/", views.run_detail, name="reserve_run"),
    path("reserve/runs/<int:pk>/approve/", views.run_approve, name="reserve_approve"),
    path("reserve/runs/<int:pk>/post/", views.run_post, name="reserve_post"),
    path("reserve/runs/<int:pk>/reverse/", views.run_reverse, name="reserve_reverse"),
    path("reserve/runs/<int:pk>/sheet.<str:fmt>", views.run_sheet, name="reserve_sheet"),
    path("reserve/policies/", views.policies, name="reserve_policies"),
    path("reserve/policies/new/", views.policy_create, name="reserve_policy_create"),
    path("reserve/specific/new/", views.specific_create, name="reserve_specific_create"),
    path("reserve/specific/<int:pk>/end/", views.specific_end, name="reserve_specific_end"),
    path("reserve/derivation/", views.derivation, name="reserve_derivation"),
    path("reserve/rollforward/", views.rollforward, name="reserve_rollforward"),
]
