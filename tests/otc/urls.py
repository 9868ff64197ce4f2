"""Test-only URLconf: the project's URLs plus a tiny kernel API (on the `Counter` model) that
exercises the API platform: token/session auth, scopes, throttling, idempotency, error shape."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from otc.api.views import OtcAPIView, OtcGenericViewSet
from otc.errors import InvalidTransition
from otc.models import Counter
from otc.urls import handler403, handler404, handler500  # noqa: F401  (the project's error pages)
from otc.urls import urlpatterns as project_urlpatterns

#: How many times the failing handler ran (the idempotency tests read it).
EXPLODE_CALLS: list[int] = []


class CounterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Counter
        fields = ["id", "name", "value"]


class CounterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, OtcGenericViewSet):
    queryset = Counter.objects.order_by("pk")
    serializer_class = CounterSerializer
    filter_backends: list = []
    action_perms = {"list": "", "retrieve": "", "create": "", "explode": "", "conflict": "",
                    "restricted": "otc.change_counter"}
    action_scopes = {"list": "customers:read", "retrieve": "customers:read", "create": "customers:write",
                     "explode": "customers:write", "conflict": "customers:write", "restricted": "customers:read"}

    @extend_schema(request=None, responses={500: None})
    @action(detail=False, methods=["post"])
    def explode(self, request):
        EXPLODE_CALLS.append(1)
        raise RuntimeError("boom")

    @extend_schema(request=None, responses={409: None})
    @action(detail=False, methods=["post"])
    def conflict(self, request):
        raise InvalidTransition("A counter that is closed cannot become open.")

    @action(detail=False, methods=["get"])
    def restricted(self, request):
        return Response({"ok": True})


class HiddenView(OtcAPIView):
    """An endpoint left out of the schema: the schema-coverage check must report it."""

    action_perms = {"get": ""}
    action_scopes = {"get": "customers:read"}

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"hidden": True})


def forbidden(request):
    raise PermissionDenied("Only controllers may see this.")


def crash(request):
    raise RuntimeError("boom")


router = SimpleRouter()
router.register("kernel-test/counters", CounterViewSet, basename="kernel-test-counter")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("kernel-test/forbidden/", forbidden, name="kernel-test-forbidden"),
    path("kernel-test/crash/", crash, name="kernel-test-crash"),
    *project_urlpatterns,
]
