"""/api/v1/webhooks/: event types, a client's subscriptions (create, change, rotate the secret,
enable, disable, queue past events) and their delivery log (read, replay).

A token client manages only its own subscriptions (scope `webhooks:manage`); people manage the
subscriptions of the clients they own, administrators all of them. The signing secret is in the
answer only when it is made: at creation and at rotation."""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters import rest_framework as df
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from otc.errors import NotFound
from otc.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from otc.registry import registry
from otc.webhooks import services

from .serializers import InputSerializer
from .views import OtcAPIView, OtcGenericViewSet

SCOPE = "webhooks:manage"
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied"), 404: OpenApiResponse(description="not_found")}


def _id(pk: str) -> int:
    """The id in the path: anything but plain digits names no record (404, not a 500)."""
    if not (pk.isascii() and pk.isdigit()):
        raise NotFound(f"No record {pk}.")
    return int(pk)


class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    subject_type = serializers.CharField()
    scope = serializers.CharField(allow_null=True)
    description = serializers.CharField()


class SubscriptionSerializer(serializers.ModelSerializer):
    client = serializers.CharField(source="client.name", read_only=True)
    client_id = serializers.IntegerField(read_only=True)
    owner = serializers.CharField(source="owner.email", read_only=True, allow_null=True, default=None,
                                  help_text="The owner's e-mail")
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    previous_secret_valid_until = serializers.DateTimeField(source="previous_secret_expires_at", read_only=True,
                                                            allow_null=True)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "client", "client_id", "url", "event_types", "description", "owner", "owner_id", "is_active",
                  "disabled_at", "disabled_reason", "consecutive_failures", "previous_secret_valid_until", "created_at"]


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown only now: store it to verify signatures.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SubscriptionInputSerializer(InputSerializer):
    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(child=serializers.CharField(max_length=80), min_length=1, max_length=100)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    client_id = serializers.IntegerField(required=False, help_text="People only: the API client subscribing. "
                                         "A token client always subscribes itself.")


class SubscriptionPatchSerializer(InputSerializer):
    url = serializers.URLField(max_length=500, required=False)
    event_types = serializers.ListField(child=serializers.CharField(max_length=80), min_length=1, max_length=100,
                                        required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RotateInputSerializer(InputSerializer):
    overlap_hours = serializers.IntegerField(min_value=0, max_value=168, default=24,
                                             help_text="How long the old secret keeps signing beside the new one.")


class ReplayEventsInputSerializer(InputSerializer):
    since = serializers.DateTimeField(help_text="Queue the subscribed events recorded since then (ISO date-time).")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "succeeded", "replay", "response_status", "response_ms", "response_excerpt", "error"]


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event_ref", read_only=True)
    type = serializers.CharField(source="topic", read_only=True)
    subject = serializers.CharField(source="subject_key", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event_id", "type", "subject", "status", "attempts", "last_attempt_at",
                  "next_attempt_at", "give_up_at", "response_status", "response_ms", "delivered_at", "created_at"]


class DeliveryDetailSerializer(DeliverySerializer):
    attempts_log = AttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "body", "attempts_log"]


@extend_schema(summary="Webhook event types a client may subscribe to", responses={200: EventTypeSerializer(many=True)})
class EventTypesView(OtcAPIView):
    action_perms = {"get": ""}
    action_scopes = {"get": SCOPE}

    def get(self, request):
        rows = []
        for event in sorted(registry.webhook_events.values(), key=lambda e: e.topic):
            subject = registry.webhook_subjects.get(event.subject_type)
            rows.append({"type": event.topic, "subject_type": event.subject_type,
                         "scope": subject.scope if subject else None, "description": event.description})
        return Response(EventTypeSerializer(rows, many=True).data)


_ALL = ("list", "retrieve", "create", "partial_update", "destroy", "rotate_secret", "enable", "disable",
        "replay_events")


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions"),
    retrieve=extend_schema(summary="Get a webhook subscription", responses={200: SubscriptionSerializer, **_ERRORS}),
    destroy=extend_schema(summary="Delete a webhook subscription (and its delivery log)",
                          responses={204: None, **_ERRORS}),
)
class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = SubscriptionSerializer
    action_perms = dict.fromkeys(_ALL, "")  # who may is decided per client/subscription by the services
    action_scopes = dict.fromkeys(_ALL, SCOPE)
    bodyless_actions = ("enable", "disable")

    def get_queryset(self):
        return services.subscriptions_visible_to(self.request.user).order_by("id")

    def _out(self, subscription, code=status.HTTP_200_OK, secret: str | None = None) -> Response:
        fresh = self.get_queryset().get(pk=subscription.pk)
        if secret is None:
            return Response(SubscriptionSerializer(fresh).data, status=code)
        fresh.secret = secret
        return Response(SubscriptionWithSecretSerializer(fresh).data, status=code)

    @extend_schema(summary="Subscribe to webhook events", request=SubscriptionInputSerializer,
                   responses={201: SubscriptionWithSecretSerializer, **_ERRORS})
    def create(self, request):
        data = SubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if request.user.is_integration:
            client_id = request.user.api_client.pk
        elif "client_id" in values:
            client_id = values["client_id"]
        else:
            raise serializers.ValidationError({"client_id": ["Name the API client that subscribes."]})
        subscription, secret = services.webhook_subscription_create(
            client_id=client_id, url=values["url"], event_types=values["event_types"], by=request.user,
            description=values.get("description", ""))
        return self._out(subscription, status.HTTP_201_CREATED, secret)

    @extend_schema(summary="Change a subscription's URL, event types or description", request=SubscriptionPatchSerializer,
                   responses={200: SubscriptionSerializer, **_ERRORS})
    def partial_update(self, request, pk=None):
        data = SubscriptionPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_update(subscription_id=_id(pk), by=request.user,
                                                            **data.validated_data)
        return self._out(subscription)

    def destroy(self, request, pk=None):
        services.webhook_subscription_delete(subscription_id=_id(pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Rotate the signing secret (the old one stays valid during the overlap)",
                   request=RotateInputSerializer, responses={200: SubscriptionWithSecretSerializer, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        data = RotateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription, secret = services.webhook_secret_rotate(
            subscription_id=_id(pk), by=request.user, overlap_hours=data.validated_data["overlap_hours"])
        return self._out(subscription, secret=secret)

    @extend_schema(summary="Enable a subscription again (pending deliveries resume)", request=None,
                   responses={200: SubscriptionSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return self._out(services.webhook_subscription_set_active(subscription_id=_id(pk), by=request.user, active=True))

    @extend_schema(summary="Disable a subscription (events queue until it is enabled)", request=None,
                   responses={200: SubscriptionSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        return self._out(services.webhook_subscription_set_active(subscription_id=_id(pk), by=request.user,
                                                                  active=False))

    @extend_schema(summary="Queue past events of the subscribed types (the backlog since a date-time)",
                   request=ReplayEventsInputSerializer,
                   responses={202: inline_serializer("ReplayEventsOutput", {"queued": serializers.IntegerField()}),
                              **_ERRORS})
    @action(detail=True, methods=["post"], url_path="replay-events")
    def replay_events(self, request, pk=None):
        data = ReplayEventsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = services.webhook_events_replay(subscription_id=_id(pk), by=request.user,
                                                since=data.validated_data["since"])
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(df.FilterSet):
    subscription = df.NumberFilter()
    status = df.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    type = df.CharFilter(field_name="topic")

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "type"]


@extend_schema_view(
    list=extend_schema(summary="The webhook delivery log (filters subscription, status, type)"),
    retrieve=extend_schema(summary="One delivery with its body and every attempt",
                           responses={200: DeliveryDetailSerializer, **_ERRORS}),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    filterset_class = DeliveryFilter
    action_perms = {"list": "", "retrieve": "", "replay": ""}
    action_scopes = {"list": SCOPE, "retrieve": SCOPE, "replay": SCOPE}
    bodyless_actions = ("replay",)

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    def get_queryset(self):
        qs = services.deliveries_visible_to(self.request.user).order_by("-id")
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-at", "-id")))
        return qs

    @extend_schema(summary="Send a delivery again (same event id and body)", request=None,
                   responses={202: DeliverySerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        delivery = services.webhook_delivery_replay(delivery_id=_id(pk), by=request.user)
        return Response(DeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data, status=status.HTTP_202_ACCEPTED)
