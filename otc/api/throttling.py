from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from otc.models import ApiClient


class ClientRateThrottle(SimpleRateThrottle):
    """Rate limit per API client (per user for session callers); a client may carry its own rate."""

    scope = "client"

    def allow_request(self, request, view):
        if getattr(request._request, "otc_internal", False):  # a webhook body rendered for the client
            return True
        if isinstance(request.auth, ApiClient) and request.auth.throttle_rate:
            self.rate = request.auth.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiClient):
            ident = f"client-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class FailedAuthThrottle(SimpleRateThrottle):
    """Anonymous and bad-token callers, per IP (`API_ANON_THROTTLE_RATE`, default 60/min).

    DRF refuses an unauthenticated request (401) before its throttles run, so a caller without
    or with a wrong token would never be throttled. Instead every 401 counts against the IP
    (`record`, from the exception handler), and once over the rate the IP gets 429 before its
    token is even looked up (`wait_for`, from the authentication class)."""

    scope = "anon"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or "60/min"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request) -> None:
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def wait_for(self, request) -> float | None:
        """Seconds until this IP may try again; None when it is not over the rate."""
        self._load(request)
        return self.wait() if len(self.history) >= self.num_requests else None

    def record(self, request) -> float | None:
        """Count one failed authentication; returns the wait when the IP is now over the rate."""
        self._load(request)
        if len(self.history) >= self.num_requests:
            return self.wait()
        self.throttle_success()
        return None
