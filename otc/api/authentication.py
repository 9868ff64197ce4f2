from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from otc.services import api_client_authenticate

from .throttling import FailedAuthThrottle


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer otc_<prefix>_<secret>` (or `Token ...`). request.auth is the ApiClient."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        wait = FailedAuthThrottle().wait_for(request)
        if wait is not None:  # this IP sent too many bad or missing tokens: no lookup at all
            raise exceptions.Throttled(wait)
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        client = api_client_authenticate(header[1])
        if client is None:
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if not client.is_active or not client.user.is_active:
            raise exceptions.AuthenticationFailed("This API token has been revoked.")
        stamp = timezone.now()
        if client.last_used_at is None or (stamp - client.last_used_at).total_seconds() > 60:
            type(client).objects.filter(pk=client.pk).update(last_used_at=stamp)
        return client.user, client

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "otc.api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
