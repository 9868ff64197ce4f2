"""Two-factor (TOTP) pages: set up, enter the code after login, turn off. Password change and
reset are Django's own views (otc/urls.py) with our templates."""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from .security import has_confirmed_device, two_factor_required


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    confirmed = has_confirmed_device(user)
    context = {"confirmed": confirmed, "required": two_factor_required(user), "next": _next(request)}
    if not confirmed:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=False)
        if request.method == "POST":
            if device.verify_token((request.POST.get("token") or "").strip()):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                messages.success(request, "Two-factor authentication is on.")
                return redirect(_next(request))
            context["error"] = "That code did not match: check the app's clock and try the current code."
        context.update(key=base64.b32encode(device.bin_key).decode(),
                       qr_svg=segno.make(device.config_url, error="m").svg_inline(scale=4))
    return render(request, "registration/two_factor_setup.html", context)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified() or not has_confirmed_device(request.user):
        return redirect(_next(request))
    error = None
    if request.method == "POST":
        device = match_token(request.user, (request.POST.get("token") or "").strip())
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        error = "That code did not match. Try the current code (too many wrong codes slow you down)."
    return render(request, "registration/two_factor_verify.html", {"error": error, "next": _next(request)})


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor_required(user):
        messages.error(request, "Your role requires two-factor authentication.")
    elif match_token(user, (request.POST.get("token") or "").strip()) is None:
        messages.error(request, "That code did not match: two-factor authentication stays on.")
    else:
        TOTPDevice.objects.filter(user=user).delete()
        messages.success(request, "Two-factor authentication is off.")
    return redirect("two_factor_setup")
