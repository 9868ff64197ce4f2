"""Kernel models: the user, approval limits, counters, status-change history, API clients and
idempotency keys. Nothing here knows about customers, invoices or receipts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .money import MAX_DIGITS, STORAGE_PLACES


class User(AbstractUser):
    class Kind(models.TextChoices):
        HUMAN = "human", "Person"
        INTEGRATION = "integration", "Integration client"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HUMAN)
    job_title = models.CharField(max_length=120, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        permissions = [("view_audit_trail", "Can view audit history of records")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_integration(self) -> bool:
        return self.kind == self.Kind.INTEGRATION

    @property
    def role_names(self) -> list[str]:
        return sorted(g.name for g in self.groups.all())


class ApprovalLimit(models.Model):
    """The most a role or a user may approve for one kind of document, per currency and
    (optionally) legal entity. Contract, credit-note, write-off and reserve approvals read it."""

    class Kind(models.TextChoices):
        CONTRACT = "contract", "Contract"
        CREDIT_NOTE = "credit_note", "Credit note"
        WRITE_OFF = "write_off", "Write-off"
        RESERVE = "reserve", "Bad-debt reserve"
        JOURNAL = "journal", "Manual journal"
        CREDIT_RELEASE = "credit_release", "Release from credit hold"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    legal_entity = models.ForeignKey(
        "ledger.LegalEntity", null=True, blank=True, on_delete=models.CASCADE,
        help_text="Empty: applies to every legal entity.",
    )
    role = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    currency = models.CharField(max_length=3)
    max_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(role__isnull=False, user__isnull=True) | Q(role__isnull=True, user__isnull=False)),
                name="approvallimit_role_xor_user",
                violation_error_message="Set the limit for a role or for one person, not both.",
            ),
            models.CheckConstraint(
                condition=Q(max_amount__gte=0), name="approvallimit_amount_nonnegative",
                violation_error_message="The maximum must be a non-negative amount.",
            ),
            models.UniqueConstraint(
                fields=["kind", "legal_entity", "role", "user", "currency"], name="approvallimit_unique"
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.role
        return f"{self.get_kind_display()} {who}: {self.max_amount} {self.currency}"


class Counter(models.Model):
    """A named counter for identifiers that need not be gapless (customer account numbers).
    Gapless legal numbering lives in ledger.NumberSeries."""

    name = models.CharField(max_length=60, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class StatusChange(models.Model):
    """One row per state transition of any workflow object: who, when, from, to, why."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT,
                                     db_index=False)  # (content_type, object_id, at) covers it
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    field = models.CharField(max_length=40, default="status")
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                           db_index=False)
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state}"


class ApiClient(models.Model):
    """An integration client (the CRM, a bank feed). Its token is shown once at creation and
    stored as a SHA-256 hash; scopes limit what it may call; it acts as its own user."""

    name = models.CharField(max_length=120, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client")
    scopes = models.JSONField(default=list, blank=True)
    key_prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    throttle_rate = models.CharField(
        max_length=20, blank=True, help_text="e.g. 120/min; empty: the default rate."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["last_used_at", "key_hash"])

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first response to a POST carrying an `Idempotency-Key`, replayed for retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_per_user")]

    def __str__(self) -> str:
        return self.key


class OutboxEvent(models.Model):
    """Webhook-ready domain events (contract approved, invoice issued...), written in the same
    transaction as the change they announce. `delivered_at` is when the webhook dispatcher
    handed the event to the subscriptions that want it (otc.webhooks.delivery.fan_out); each
    subscription's delivery has its own state in WebhookDelivery."""

    topic = models.CharField(max_length=80)
    subject_type = models.CharField(max_length=40, help_text="e.g. contract")
    subject_id = models.PositiveBigIntegerField()
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["delivered_at", "id"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.subject_type}#{self.subject_id}"


class WebhookSubscription(models.Model):
    """An integration client's subscription: the event types it wants at one HTTPS URL, signed
    with a secret (two during a rotation's overlap). Deliveries come from the outbox."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list, help_text="Topics (invoice.issued) or families (invoice.*).")
    description = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The person told by e-mail when the subscription is disabled.",
    )
    secret = models.CharField(max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["secret", "previous_secret", "consecutive_failures"])

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.client} -> {self.url}"


class WebhookDelivery(models.Model):
    """One outbox event for one subscription: its state, the exact body sent and the retry
    schedule. Attempts are logged in WebhookAttempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=80)
    subject_key = models.CharField(max_length=80, help_text="subject_type:subject_id; orders deliveries per object.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    body = models.TextField(blank=True, help_text="The exact JSON sent, fixed at the first attempt.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    give_up_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhookdelivery_once_per_subscription"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["subscription", "subject_key", "event"]),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.event_id} -> {self.subscription_id}"

    @property
    def event_ref(self) -> str:
        return f"evt_{self.event_id}"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt, with its outcome."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=False)
    replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["delivery", "at"])]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.response_status or self.error}"
