"""Web security pieces that are not a library's defaults: the client IP behind proxies, and the
two-factor gate (TOTP, django-otp) — optional for everyone, required for the roles that
settings name (production: Controllers and superusers).

A person who has a confirmed TOTP device, or must have one, is "verified" only after entering
a code in this session; until then only the two-factor pages, logout and static files answer."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from otc.api.errors import json_error

NOT_NEEDED = "otc_2fa_not_needed"
OPEN_PATHS = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/healthz")


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or with OTC_PROXY_COUNT proxies in front the address
    the outermost trusted proxy saw (counted from the right of X-Forwarded-For, so a client
    cannot forge it by sending its own header)."""
    proxies = getattr(settings, "OTC_PROXY_COUNT", 0)
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def two_factor_required(user) -> bool:
    if not user.is_authenticated or getattr(user, "is_integration", False):
        return False
    if user.is_superuser and getattr(settings, "OTC_2FA_REQUIRED_FOR_SUPERUSERS", False):
        return True
    roles = set(getattr(settings, "OTC_2FA_REQUIRED_ROLES", []))
    return bool(roles) and user.groups.filter(name__in=roles).exists()


def has_confirmed_device(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def remember_two_factor_state(sender, request, user, **kwargs) -> None:
    """At login (user_logged_in): note in the session when this person neither has a TOTP
    device nor needs one, so the middleware costs no query on their requests."""
    if request is not None and hasattr(request, "session") and not has_confirmed_device(user) \
            and not two_factor_required(user):
        request.session[NOT_NEEDED] = user.pk


class TwoFactorMiddleware:
    """After django_otp.middleware.OTPMiddleware: send an unverified person who has (or needs) a
    TOTP device to the code page (or to set one up) before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(OPEN_PATHS)
                and not user.is_verified() and request.session.get(NOT_NEEDED) != user.pk):
            has_device = has_confirmed_device(user)
            if has_device or two_factor_required(user):
                return self._refuse(request, has_device)
            # Decided once per login session: no device and not required (no queries after this).
            request.session[NOT_NEEDED] = user.pk
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, has_device: bool) -> HttpResponse:
        target = reverse("two_factor_verify" if has_device else "two_factor_setup")
        if request.path.startswith("/api/"):
            return json_error("two_factor_required", "Enter your two-factor code in the browser first.", 403)
        return redirect(f"{target}?next={request.get_full_path()}")
