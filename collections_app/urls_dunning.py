"""Dunning routes under /collections/dunning/."""

from django.urls import path

from collections_app.views import dunning as views

urlpatterns = [
    path("dunning/", views.dunning_home, name="dunning"),
    path("dunning/start/", views.dunning_run_start_view, name="dunning_run_start"),
    path("dunning/runs/<int:pk>/", views.dunning_run_detail, name="dunning_run"),
    path("dunning/runs/<int:pk>/progress/", views.dunning_run_progress, name="dunning_run_progress"),
    path("dunning/runs/<int:pk>/send/", views.dunning_run_send_view, name="dunning_run_send"),
    path("dunning/letters/<int:pk>/", views.dunning_letter_detail, name="dunning_letter"),
    path("dunning/letters/<int:pk>/letter.pdf", views.dunning_letter_pdf, name="dunning_letter_pdf"),
    path("dunning/letters/<int:pk>/cancel/", views.dunning_letter_cancel_view, name="dunning_letter_cancel"),
    path("dunning/policies/<int:entity_id>/", views.dunning_policy_edit, name="dunning_policy"),
    path("dunning/exclusions/add/", views.dunning_exclusion_add, name="dunning_exclusion_add"),
    path("dunning/exclusions/<int:pk>/lift/", views.dunning_exclusion_lift_view, name="dunning_exclusion_lift"),
]

from collections_app.views import credit_holds as hold_views  # noqa: E402

urlpatterns += [
    path("dunning/holds/", hold_views.credit_hold_list, name="credit_holds"),
    path("dunning/holds/check/", hold_views.credit_holds_check_view, name="credit_holds_check"),
    path("dunning/holds/<int:pk>/release/", hold_views.credit_hold_release_view, name="credit_hold_release"),
    path("dunning/holds/policy/<int:entity_id>/", hold_views.credit_hold_policy_view, name="credit_hold_policy"),
]

from collections_app.views import agency as agency_views  # noqa: E402

urlpatterns += [
    path("dunning/placements/", agency_views.placement_list, name="placements"),
    path("dunning/placements/new/", agency_views.placement_create_view, name="placement_create"),
    path("dunning/placements/<int:pk>/", agency_views.placement_detail, name="placement"),
    path("dunning/placements/<int:pk>/status/", agency_views.placement_transition_view, name="placement_transition"),
    path("dunning/placements/<int:pk>/recovery/", agency_views.recovery_record_view, name="placement_recovery"),
    path("dunning/placements/<int:pk>/pack.zip", agency_views.placement_pack, name="placement_pack"),
    path("dunning/agencies/new/", agency_views.agency_create_view, name="agency_create"),
]
