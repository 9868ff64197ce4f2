from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.index, name="index"),
    path("entities/", views.entity_list, name="entity_list"),
    path("entities/<int:pk>/", views.entity_detail, name="entity_detail"),
    path("entities/<int:pk>/accounts/", views.accounts, name="accounts"),
    path("entities/<int:pk>/periods/", views.periods, name="periods"),
    path("entities/<int:pk>/periods/open/", views.period_open, name="period_open"),
    path("periods/<int:pk>/close/", views.period_close, name="period_close"),
    path("periods/<int:pk>/reopen/", views.period_reopen, name="period_reopen"),
    path("fx-rates/", views.fx_rates, name="fx_rates"),
    path("journal/", views.journal_list, name="journal_list"),
    path("journal/new/", views.journal_new, name="journal_new"),
    path("journal/<int:pk>/", views.journal_detail, name="journal_detail"),
    path("journal/<int:pk>/reverse/", views.journal_reverse_view, name="journal_reverse"),
    path("open-items/<int:pk>/", views.open_item_detail, name="open_item_detail"),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("gl-export/", views.gl_export, name="gl_export"),
    path("ar-reconciliation/", views.ar_reconciliation, name="ar_reconciliation"),
    path("ar-by-customer/", views.ar_by_customer, name="ar_by_customer"),
]
