from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from . import views

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
    path("settings/approval-limits/", views.approval_limits, name="approval_limits"),
    path("settings/approval-limits/<int:pk>/", views.approval_limits, name="approval_limit_edit"),
    path("settings/approval-limits/<int:pk>/delete/", views.approval_limit_delete_view, name="approval_limit_delete"),
    path("customers/", include("customers.urls")),
    path("ledger/", include("ledger.urls")),
    path("contracts/", include("contracts.urls")),
    path("billing/", include("billing.urls")),
    path("receivables/", include("receivables.urls")),
    path("api/v1/", include("otc.api.urls")),
    path("admin/", admin.site.urls),
]
