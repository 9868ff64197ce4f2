"""Project middleware."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that API paths are never redirected to add a slash: a client would
    re-send a POST as a GET. `/api/v1/customers` answers 404 in the API's error shape naming
    the route with the slash (otc.api.errors.api_not_found). A NUL byte in the query string (a
    search for "ac\x00me") is a 400 everywhere: PostgreSQL cannot hold it in a query."""

    def process_request(self, request):
        if any("\x00" in value for values in request.GET.lists() for value in [values[0], *values[1]]):
            from otc.api.errors import is_api_request, json_error

            if is_api_request(request):
                return json_error("validation_error", "Null characters are not allowed in the query string.", 400,
                                  {"query": ["Null characters are not allowed."]})
            return HttpResponseBadRequest("Null characters are not allowed in the query string.",
                                          content_type="text/plain")
        return super().process_request(request)

    def should_redirect_with_slash(self, request) -> bool:
        if request.path_info.startswith("/api/"):
            return False
        return super().should_redirect_with_slash(request)
