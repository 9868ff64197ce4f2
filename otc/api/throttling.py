from rest_framework.throttling import SimpleRateThrottle

from otc.models import ApiClient


class ClientRateThrottle(SimpleRateThrottle):
    """Rate limit per API client (per user for session callers); a client may carry its own rate."""

    scope = "client"

    def allow_request(self, request, view):
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
