"""The API platform every endpoint uses: token and session auth, scopes, throttling per client,
one error shape, idempotency keys. Exercised on a test-only endpoint (tests/otc/urls.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from otc.models import ApiClient, Counter, IdempotencyKey
from otc.services import api_client_create, api_client_revoke
from tests.factories.otc import admin_user, integration_client, user_with_role
from tests.otc import urls as test_urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.otc.urls")]

URL = "/api/v1/kernel-test/counters/"


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()
    yield
    cache.clear()


def token_client(token: str, **kwargs) -> APIClient:
    client = APIClient(**kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def crm():
    """A client holding customers:read and customers:write, and its token."""
    return integration_client(scopes=["customers:read", "customers:write"], name="CRM")


# --- authentication -------------------------------------------------------------------------

def test_valid_token_authenticates_as_the_clients_user(crm):
    client, token = crm
    Counter.objects.create(name="invoices", value=7)

    response = token_client(token).get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": Counter.objects.get().pk, "name": "invoices", "value": 7}]
    assert response.json()["count"] == 1
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_token_is_stored_hashed_never_raw(crm):
    client, token = crm
    assert token.startswith(f"otc_{client.key_prefix}_")
    assert token not in client.key_hash
    assert len(client.key_hash) == 64


def test_a_token_whose_secret_contains_underscores_authenticates(monkeypatch):
    monkeypatch.setattr("otc.services.secrets.token_urlsafe", lambda n: "a_b_c-" + "x" * 37)
    _, token = integration_client(scopes=["customers:read"], name="Underscored")
    assert token.count("_") == 4

    assert token_client(token).get(URL).status_code == 200


def test_unknown_token_is_401_with_the_error_shape():
    response = token_client("otc_deadbeef_not-a-real-secret").get(URL)

    assert response.status_code == 401
    assert response.json() == {"error": "authentication_failed", "message": "Unknown API token.", "fields": {}}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_malformed_token_is_401():
    response = token_client("garbage").get(URL)
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_no_credentials_is_401_not_authenticated():
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response.json() == {
        "error": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }


def test_revoked_token_is_401(crm):
    client, token = crm
    api_client_revoke(client_id=client.pk, by=admin_user(username="root"))

    response = token_client(token).get(URL)

    assert response.status_code == 401
    assert response.json() == {
        "error": "authentication_failed", "message": "This API token has been revoked.", "fields": {},
    }
    assert ApiClient.objects.get(pk=client.pk).user.is_active is False


def test_missing_scope_is_403_and_writes_nothing():
    _, token = integration_client(scopes=["customers:read"], name="Reader")

    response = token_client(token).post(URL, {"name": "x", "value": 1}, format="json",
                                        HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 403
    assert response.json() == {
        "error": "permission_denied", "message": "This API client lacks the scope 'customers:write'.", "fields": {},
    }
    assert Counter.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_session_auth_works_for_a_logged_in_user():
    user = user_with_role("Billing Specialist")
    client = APIClient()
    client.force_login(user)

    listed = client.get(URL)
    created = client.post(URL, {"name": "by-session", "value": 3}, format="json")

    assert listed.status_code == 200
    assert created.status_code == 201
    assert created.json() == {"id": Counter.objects.get(name="by-session").pk, "name": "by-session", "value": 3}


def test_session_user_without_the_permission_is_403():
    client = APIClient()
    client.force_login(user_with_role("Auditor"))

    response = client.get(URL + "restricted/")

    assert response.status_code == 403
    assert response.json() == {
        "error": "permission_denied", "message": "Your role lacks the permission otc.change_counter.", "fields": {},
    }


# --- throttling -----------------------------------------------------------------------------

def test_throttling_is_per_client_and_answers_429_with_retry_after():
    by = admin_user(username="root")
    _, slow_token = api_client_create(name="Slow", scopes=["customers:read"], by=by, throttle_rate="3/min")
    _, other_token = api_client_create(name="Other", scopes=["customers:read"], by=by, throttle_rate="3/min")
    slow = token_client(slow_token)

    statuses = [slow.get(URL).status_code for _ in range(3)]
    refused = slow.get(URL)

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert refused.json()["fields"] == {}
    assert refused.json()["message"].startswith("Request was throttled.")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert token_client(other_token).get(URL).status_code == 200  # the other client has its own bucket


# --- the one error shape --------------------------------------------------------------------

def test_validation_error_shape(crm):
    _, token = crm

    response = token_client(token).post(URL, {"name": "", "value": "many"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid input. name: This field may not be blank.",
        "fields": {"name": ["This field may not be blank."], "value": ["A valid biginteger is required."]},
    }
    assert Counter.objects.count() == 0


def test_not_found_shape(crm):
    _, token = crm
    response = token_client(token).get(URL + "999999/")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not found.", "fields": {}}


def test_method_not_allowed_shape(crm):
    _, token = crm
    response = token_client(token).put(URL, {"name": "x"}, format="json")

    assert response.status_code == 405
    assert response.json() == {"error": "method_not_allowed", "message": 'Method "PUT" not allowed.', "fields": {}}


def test_domain_error_shape(crm):
    _, token = crm
    response = token_client(token).post(URL + "conflict/")

    assert response.status_code == 409
    assert response.json() == {
        "error": "invalid_transition", "message": "A counter that is closed cannot become open.", "fields": {},
    }


# --- idempotency keys -----------------------------------------------------------------------

def test_replay_with_same_key_and_body_returns_the_first_response_without_running_again(crm):
    _, token = crm
    api = token_client(token)

    first = api.post(URL, {"name": "run-1", "value": 5}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    second = api.post(URL, {"name": "run-1", "value": 5}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Counter.objects.filter(name="run-1").count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.key, record.status_code, record.response_body) == ("abc-123", 201, first.json())


def test_same_key_with_a_different_body_is_refused(crm):
    _, token = crm
    api = token_client(token)
    api.post(URL, {"name": "run-1", "value": 5}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")

    response = api.post(URL, {"name": "run-2", "value": 5}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")

    assert response.status_code == 400
    assert response.json() == {
        "error": "idempotency_key_reused",
        "message": "This Idempotency-Key was already used with a different request; use a new key.",
        "fields": {"Idempotency-Key": ["reused with a different body"]},
    }
    assert list(Counter.objects.values_list("name", flat=True)) == ["run-1"]


def test_keys_are_per_caller(crm):
    _, token = crm
    _, other = integration_client(scopes=["customers:write"], name="Bank")

    token_client(token).post(URL, {"name": "a", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = token_client(other).post(URL, {"name": "b", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert response.status_code == 201
    assert sorted(Counter.objects.values_list("name", flat=True)) == ["a", "b"]


def test_a_request_still_in_flight_gets_409(crm):
    _, token = crm
    api = token_client(token)
    api.post(URL, {"name": "a", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyKey.objects.update(completed_at=None, status_code=None, response_body=None)

    response = api.post(URL, {"name": "a", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert Counter.objects.count() == 1


def test_validation_failure_is_stored_and_replayed(crm):
    _, token = crm
    api = token_client(token)

    first = api.post(URL, {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    again = api.post(URL, {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="bad")

    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json() == first.json()


def test_unhandled_500_releases_the_key_so_a_retry_runs_again(crm):
    _, token = crm
    api = token_client(token, raise_request_exception=False)
    test_urls.EXPLODE_CALLS.clear()

    first = api.post(URL + "explode/", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert first.status_code == 500
    assert IdempotencyKey.objects.count() == 0

    retry = api.post(URL + "explode/", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert retry.status_code == 500  # ran again: not replayed, not 409
    assert len(test_urls.EXPLODE_CALLS) == 2
    assert IdempotencyKey.objects.count() == 0


def test_overlong_key_is_refused(crm):
    _, token = crm
    response = token_client(token).post(URL, {"name": "a", "value": 1}, format="json",
                                        HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert response.json()["fields"] == {"Idempotency-Key": ["too long"]}
    assert Counter.objects.count() == 0
