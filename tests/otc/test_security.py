"""Web security: login lockout per account and per IP, password change and reset by e-mail, the
session lifetime, the two-factor gate, the Content-Security-Policy, and per-IP throttling of
anonymous and bad-token API callers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.factories.otc import UserFactory, user_with_role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- lockout -------------------------------------------------------------------------------------

def test_five_failures_lock_the_account_even_from_other_addresses(settings):
    user = UserFactory(username="bella")
    statuses = [login(Client(), "bella", "wrong", ip=f"10.0.1.{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks

    refused = login(Client(), "bella", "pw", ip="10.0.2.1")  # the right password, a fresh address

    assert refused.status_code == 429 and b"Too many failed logins" in refused.content
    assert not logged_in(Client())
    other = Client()
    assert login(other, UserFactory(username="carl").username, "pw", ip="10.0.2.1").status_code == 302
    assert user.pk  # bella's account is locked, not the address


def test_five_failures_from_one_address_lock_the_address_for_everyone():
    for n in range(5):
        login(Client(), f"nobody{n}", "wrong", ip="10.9.9.9")
    UserFactory(username="dora")

    from_there, elsewhere = Client(), Client()
    assert login(from_there, "dora", "pw", ip="10.9.9.9").status_code == 429 and not logged_in(from_there)
    assert login(elsewhere, "dora", "pw", ip="10.9.9.10").status_code == 302 and logged_in(elsewhere)


def test_a_success_resets_the_count():
    UserFactory(username="emil")
    for _ in range(4):
        login(Client(), "emil", "wrong")
    assert login(Client(), "emil", "pw").status_code == 302
    for _ in range(4):
        login(Client(), "emil", "wrong")
    assert login(Client(), "emil", "pw").status_code == 302


# --- passwords and sessions ---------------------------------------------------------------------------

def test_password_change(client):
    UserFactory(username="fritz")
    login(client, "fritz", "pw")

    response = client.post("/accounts/password/", {"old_password": "pw", "new_password1": "Tr0ub4dor&3-horse",
                                                   "new_password2": "Tr0ub4dor&3-horse"})

    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert login(Client(), "fritz", "Tr0ub4dor&3-horse").status_code == 302
    assert login(Client(), "fritz", "pw").status_code == 200  # the old one no longer works


def test_password_reset_by_email(client):
    UserFactory(username="greta", email="greta@otc.example")

    sent = client.post("/accounts/password/reset/", {"email": "greta@otc.example"})
    assert sent.status_code == 302
    [message] = mail.outbox
    assert message.to == ["greta@otc.example"] and message.subject == "otc: set a new password"
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"Set a new password" in form.content
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "Correct-horse-42", "new_password2": "Correct-horse-42"})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/complete/"
    assert login(Client(), "greta", "Correct-horse-42").status_code == 302
    assert client.get(link, follow=True).context["validlink"] is False  # the link works once

    assert client.post("/accounts/password/reset/", {"email": "nobody@otc.example"}).status_code == 302
    assert len(mail.outbox) == 1  # an unknown address sends nothing (and says the same)


def test_session_lasts_a_working_day_by_default(client, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    UserFactory(username="hans")
    login(client, "hans", "pw")
    assert client.cookies["sessionid"]["max-age"] == 8 * 60 * 60


# --- two-factor --------------------------------------------------------------------------------------

def _code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def _unthrottle(device: TOTPDevice) -> None:
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()


def test_optional_two_factor_set_up_then_asked_at_each_login():
    user = user_with_role("Billing Specialist", username="ines")
    client = Client()
    login(client, "ines", "pw")
    setup = client.get("/accounts/two-factor/")
    assert setup.status_code == 200 and b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/two-factor/", {"token": "000000" if _code(device) != "000000" else "111111"}
                       ).status_code == 200
    _unthrottle(device)  # django-otp slows down guessing after a wrong code
    assert client.post("/accounts/two-factor/", {"token": _code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed

    again = Client()
    login(again, "ines", "pw")
    gate = again.get("/customers/")
    assert gate.status_code == 302 and gate["Location"].startswith("/accounts/two-factor/verify/")
    wrong = again.post("/accounts/two-factor/verify/", {"token": "12345", "next": "/customers/"})
    assert wrong.status_code == 200 and b"did not match" in wrong.content
    _unthrottle(device)
    device.last_t = -1
    device.save()
    ok = again.post("/accounts/two-factor/verify/", {"token": _code(device), "next": "/customers/"})
    assert ok.status_code == 302 and ok["Location"] == "/customers/"
    assert again.get("/customers/").status_code == 200


def test_required_roles_must_set_it_up_and_others_need_not(settings):
    settings.OTC_2FA_REQUIRED_ROLES = ["Controller"]
    user_with_role("Controller", username="jana")
    user_with_role("Collector", username="kurt")

    controller, collector = Client(), Client()
    login(controller, "jana", "pw")
    login(collector, "kurt", "pw")

    page = controller.get("/customers/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/two-factor/?next=")
    api = controller.get("/api/v1/customers/")
    assert api.status_code == 403 and api.json()["error"] == "two_factor_required"
    assert b"requires two-factor" in controller.get("/accounts/two-factor/").content
    assert collector.get("/customers/").status_code == 200


def test_production_requires_two_factor_for_controllers_and_superusers():
    text = (ROOT / "otc/settings/production.py").read_text()
    assert 'OTC_2FA_REQUIRED_ROLES = env.list("OTC_2FA_REQUIRED_ROLES", default=["Controller"])' in text
    assert 'OTC_2FA_REQUIRED_FOR_SUPERUSERS = env.bool("OTC_2FA_REQUIRED_FOR_SUPERUSERS", default=True)' in text


# --- Content-Security-Policy --------------------------------------------------------------------------

def test_pages_carry_a_content_security_policy_without_inline_scripts(client):
    client.force_login(user_with_role("Controller"))

    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", response.content)


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]:
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_swagger_ui_loads_its_setup_as_a_script_file(client):
    client.force_login(user_with_role("Controller"))
    page = client.get("/api/v1/docs/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


# --- API throttling of anonymous and bad-token callers ------------------------------------------------

def test_anonymous_and_bad_token_callers_are_throttled_per_ip(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"client": "10000/min", "anon": "3/min"}}
    anonymous = APIClient(REMOTE_ADDR="10.1.1.1")
    bad = APIClient(REMOTE_ADDR="10.1.1.1", HTTP_AUTHORIZATION="Bearer otc_deadbeef_nope")

    statuses = [anonymous.get("/api/v1/customers/").status_code, bad.get("/api/v1/customers/").status_code,
                anonymous.get("/api/v1/customers/").status_code]
    refused = bad.get("/api/v1/customers/")

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429 and refused.json()["error"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert APIClient(REMOTE_ADDR="10.1.1.2").get("/api/v1/customers/").status_code == 401  # another address
