"""Project middleware."""

from __future__ import annotations

from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that API paths are never redirected to add a slash: a client would
    re-send a POST as a GET. `/api/v1/customers` answers 404 in the API's error shape naming
    the route with the slash (otc.api.errors.api_not_found)."""

    def should_redirect_with_slash(self, request) -> bool:
        if request.path_info.startswith("/api/"):
            return False
        return super().should_redirect_with_slash(request)
