from rest_framework import viewsets
from rest_framework.views import APIView

from .idempotency import IdempotencyMixin


class OtcGenericViewSet(IdempotencyMixin, viewsets.GenericViewSet):
    """Base for every API viewset: explicit per-action permissions and scopes (see
    otc.api.permissions), idempotency keys on POST, one error shape."""

    action_perms: dict[str, str] = {}
    action_scopes: dict[str, str] = {}
    object_perms: dict[str, str] = {}


class OtcAPIView(IdempotencyMixin, APIView):
    action_perms: dict[str, str] = {}
    action_scopes: dict[str, str] = {}
    object_perms: dict[str, str] = {}
