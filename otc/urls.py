from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from . import auth_views as two_factor
from . import views
from .webhooks import views as webhook_views

handler400 = "otc.views.error_400"
handler403 = "otc.views.error_403"
handler404 = "otc.views.error_404"
handler500 = "otc.views.error_500"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page links: answer with the app's icon, not a 404.
    path("favicon.ico", lambda request: redirect(static("otc/favicon.svg"), permanent=True)),  # resolved per request
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("accounts/two-factor/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/disable/", two_factor.two_factor_disable, name="two_factor_disable"),
    path("settings/approval-limits/", views.approval_limits, name="approval_limits"),
    path("settings/approval-limits/<int:pk>/", views.approval_limits, name="approval_limit_edit"),
    path("settings/approval-limits/<int:pk>/delete/", views.approval_limit_delete_view, name="approval_limit_delete"),
    path("settings/webhooks/", webhook_views.webhooks, name="webhooks"),
    path("settings/webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/<str:action>/", webhook_views.webhook_action, name="webhook_action"),
    path("settings/webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/", webhook_views.webhook_replay,
         name="webhook_replay"),
    path("customers/", include("customers.urls")),
    path("ledger/", include("ledger.urls")),
    path("contracts/", include("contracts.urls")),
    path("billing/", include("billing.urls")),
    path("receivables/", include("receivables.urls")),
    path("helpdesk/", include("helpdesk.urls")),
    path("collections/", include("collections_app.urls")),
    path("api/v1/", include("otc.api.urls")),
    path("admin/", admin.site.urls),
]
