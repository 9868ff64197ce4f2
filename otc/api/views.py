from rest_framework import viewsets
from rest_framework.views import APIView

from .idempotency import IdempotencyMixin
from .query import check_body_size, check_no_body, check_ordering, check_query_params


class StrictQueryMixin:
    """Unknown or malformed query parameters are a 400 (see otc.api.query). A view that reads
    parameters of its own lists them in `extra_query_params`."""

    extra_query_params: tuple[str, ...] = ()
    # Actions that take no body (submit, enable...): a body with fields is refused like an unknown field.
    bodyless_actions: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        check_body_size(request)
        super().initial(request, *args, **kwargs)
        check_query_params(request, self)
        if getattr(self, "action", None) in self.bodyless_actions and request.method in ("POST", "PUT", "PATCH"):
            check_no_body(request)

    def filter_queryset(self, queryset):
        check_ordering(self.request, self, queryset)
        return super().filter_queryset(queryset)


class OtcGenericViewSet(IdempotencyMixin, StrictQueryMixin, viewsets.GenericViewSet):
    """Base for every API viewset: explicit per-action permissions and scopes (see
    otc.api.permissions), idempotency keys on POST, strict query parameters, one error shape."""

    action_perms: dict[str, str] = {}
    action_scopes: dict[str, str] = {}
    object_perms: dict[str, str] = {}


class OtcAPIView(IdempotencyMixin, StrictQueryMixin, APIView):
    action_perms: dict[str, str] = {}
    action_scopes: dict[str, str] = {}
    object_perms: dict[str, str] = {}

    def filter_queryset(self, queryset):  # an APIView has no filter backends
        return queryset
