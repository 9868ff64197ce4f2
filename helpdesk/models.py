"""Help desk: sales reps' tickets about their customers, answered by finance with AR context.

The ticket's event log (`TicketEvent`) is the record the SLA clock is computed from; the few
SLA columns on `Ticket` are a cache rewritten from the log after every event (so the queue page
can sort and filter on them), never counters moved in place.
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.db.models import Q
from django.urls import reverse

from otc.money import MAX_DIGITS, STORAGE_PLACES


class BusinessCalendar(models.Model):
    """Working hours of a legal entity (one calendar per entity), in its own time zone."""

    legal_entity = models.OneToOneField("ledger.LegalEntity", on_delete=models.CASCADE, related_name="helpdesk_calendar")
    timezone = models.CharField(max_length=60, default="UTC", help_text="IANA name, e.g. Europe/Berlin")
    workdays = models.CharField(max_length=20, default="0,1,2,3,4", help_text="Weekdays worked: 0 = Monday ... 6 = Sunday")
    day_start = models.TimeField(default=dt.time(9, 0))
    day_end = models.TimeField(default=dt.time(17, 0))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(day_end__gt=models.F("day_start")),
                                              name="calendar_day_end_after_start")]

    def __str__(self) -> str:
        return f"Calendar {self.legal_entity}"

    @property
    def workday_numbers(self) -> set[int]:
        return {int(x) for x in self.workdays.split(",") if x.strip() != ""}


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class Queue(models.Model):
    """A team's queue in one legal entity; tickets are routed here by category."""

    class Kind(models.TextChoices):
        BILLING = "billing", "Billing"
        CASH_APPLICATION = "cash_application", "Cash application"
        COLLECTIONS = "collections", "Collections"
        CONTRACT_REVIEW = "contract_review", "Contract review"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="helpdesk_queues")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    team_lead = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="helpdesk_queues")
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="Round-robin cursor")

    class Meta:
        ordering = ["legal_entity__code", "kind"]
        constraints = [models.UniqueConstraint(fields=["legal_entity", "kind"], name="queue_once_per_entity")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.legal_entity.code}"


class SlaPolicy(models.Model):
    """Targets in business minutes of the entity's calendar, per queue and priority."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    warn_percent = models.PositiveSmallIntegerField(default=80, help_text="Warn when this share of a target is used")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "priority"], name="sla_once_per_queue_priority"),
            models.CheckConstraint(condition=Q(resolution_minutes__gte=models.F("first_response_minutes")),
                                   name="sla_resolution_after_first_response"),
        ]

    def __str__(self) -> str:
        return f"{self.queue} {self.priority}: {self.first_response_minutes}/{self.resolution_minutes} min"


class Category(models.TextChoices):
    INVOICE_COPY = "invoice_copy", "Invoice copy"
    BILLING_QUESTION = "billing_question", "Billing question"
    CREDIT_REQUEST = "credit_request", "Credit request"
    DISPUTE = "dispute", "Dispute"
    PAYMENT_STATUS = "payment_status", "Payment status"
    PORTAL_PROBLEM = "portal_problem", "Portal upload problem"
    DATA_CHANGE = "data_change", "Customer data change"
    CONTRACT_QUESTION = "contract_question", "Contract question"
    OTHER = "other", "Other"


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING_REQUESTER = "waiting_requester", "Waiting on requester"
        WAITING_CUSTOMER = "waiting_customer", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    TRANSITIONS = {
        "new": ("open", "waiting_requester", "waiting_customer", "resolved", "closed"),
        "open": ("waiting_requester", "waiting_customer", "resolved", "closed"),
        "waiting_requester": ("open", "waiting_customer", "resolved", "closed"),
        "waiting_customer": ("open", "waiting_requester", "resolved", "closed"),
        "resolved": ("open", "closed"),  # open = reopened by a reply within the window
        "closed": (),
    }
    ACTIVE = ("new", "open", "waiting_requester", "waiting_customer")

    class SlaState(models.TextChoices):
        RUNNING = "running", "On track"
        WARNING = "warning", "Due soon"
        BREACHED = "breached", "Breached"
        PAUSED = "paused", "Paused"
        MET = "met", "Met"
        NONE = "none", "No SLA"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    category = models.CharField(max_length=20, choices=Category.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    subject = models.CharField(max_length=200)
    description = models.TextField()
    details = models.JSONField(default=dict, blank=True, help_text="The category's own fields")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="tickets")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey("contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    receipt = models.ForeignKey("receivables.Receipt", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    credit_note = models.ForeignKey("billing.CreditNote", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="The credit note requested from this ticket")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets_filed")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   help_text="Who filed it: the rep, or the CRM on the rep's behalf")
    channel = models.CharField(max_length=10, default="web", help_text="web, api or email")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="tickets_assigned")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="tickets_watched")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    self_service_answer = models.TextField(blank=True, help_text="The answer the form showed before it was filed anyway")
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 (poor) to 5 (great)")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    # --- cache of the SLA computed from the event log (helpdesk.sla) ---
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Business minutes")
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Business minutes")
    sla_state = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.RUNNING)
    sla_first_response_met = models.BooleanField(null=True, blank=True)
    sla_resolution_met = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("file_ticket", "Can file help-desk tickets about own customers"),
            ("work_tickets", "Can work help-desk queues (assign, reply, act)"),
            ("view_all_tickets", "Can read every ticket"),
            ("view_helpdesk_metrics", "Can see help-desk metrics"),
            ("decide_datachange", "Can approve customer data change requests"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="ticket_satisfaction_1_to_5"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | ~Q(currency=""), name="ticket_amount_has_currency"),
        ]
        indexes = [
            models.Index(fields=["queue", "status", "resolution_due"], name="ticket_queue_due"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["requester", "status"], name="ticket_requester_status"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status"),
            models.Index(fields=["status", "created_at"], name="ticket_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("helpdesk:ticket", args=[self.reference])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class TicketEvent(models.Model):
    """The ticket's log: every fact the SLA clock and the history read, in order."""

    class Kind(models.TextChoices):
        CREATED = "created", "Filed"
        STATUS = "status", "Status changed"
        PRIORITY = "priority", "Priority changed"
        ASSIGNED = "assigned", "Assigned"
        REPLY = "reply", "Reply"
        NOTE = "note", "Internal note"
        REQUESTER_REPLY = "requester_reply", "Requester replied"
        ACTION = "action", "Action"
        LINKED = "linked", "Linked"
        MERGED = "merged", "Merged"
        WATCH = "watch", "Watchers"
        SLA_WARNING = "sla_warning", "SLA warning"
        SLA_BREACH = "sla_breach", "SLA breached"
        RATED = "rated", "Rated"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_value = models.CharField(max_length=40, blank=True)
    to_value = models.CharField(max_length=40, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="ticketevent_ticket_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Comment(models.Model):
    """A reply (seen by the requester) or an internal note (finance only)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False)
    source = models.CharField(max_length=10, default="web", help_text="web, email, api or action")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="comment_ticket_created")]

    def __str__(self) -> str:
        return f"{'Note' if self.internal else 'Reply'} on {self.ticket_id}"


class PrivateStorage(FileSystemStorage):
    """Files under HELPDESK_ATTACHMENT_ROOT (read at each use), outside MEDIA_ROOT: the web
    server never serves them; a view does, after the ticket's visibility check."""

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(settings.HELPDESK_ATTACHMENT_ROOT)

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)


_PRIVATE = PrivateStorage()


def private_storage() -> Storage:
    return _PRIVATE


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{instance.sha256[:16]}-{filename}"


class Attachment(models.Model):
    """Stored on the private storage (HELPDESK_ATTACHMENT_ROOT, outside the web root); served
    only through the ticket's visibility check."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, storage=private_storage)
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file_name


class CannedReply(models.Model):
    """A reply template. Placeholders: {requester}, {customer}, {invoice}, {reference}, {agent}."""

    title = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class TicketLink(models.Model):
    class Kind(models.TextChoices):
        RELATED = "related", "Related"
        DUPLICATE = "duplicate", "Duplicate of"
        FOLLOW_UP = "follow_up", "Follow-up of"

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RELATED)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_ticket", "to_ticket"], name="ticketlink_once"),
            models.CheckConstraint(condition=~Q(from_ticket=models.F("to_ticket")), name="ticketlink_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.from_ticket_id} {self.kind} {self.to_ticket_id}"


class DataChangeRequest(models.Model):
    """A change to the customer master asked for in a ticket; a billing specialist decides."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPLIED = "applied", "Approved and applied"
        REJECTED = "rejected", "Rejected"

    TRANSITIONS = {"requested": ("applied", "rejected"), "applied": (), "rejected": ()}
    FIELDS = ("address_line1", "address_line2", "city", "region", "postal_code", "country", "tax_id", "billing_email")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="data_change")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    changes = models.JSONField(help_text="field -> new value")
    previous = models.JSONField(default=dict, blank=True, help_text="field -> value before it was applied")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Data change for {self.customer_id} ({self.status})"


class MailMessage(models.Model):
    """Every mail in or out that touches a ticket, keyed by Message-ID: threading reads it and
    the same inbound message twice is recognised. Refused mail keeps only who/what/why."""

    class Direction(models.TextChoices):
        IN = "in", "Inbound"
        OUT = "out", "Outbound"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        THREADED = "threaded", "Added to the ticket"
        NEW_TICKET = "new_ticket", "Opened a follow-up ticket"
        HELD = "held", "Held for an agent"
        REFUSED = "refused", "Refused"

    message_id = models.CharField(max_length=255, unique=True)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="mails")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender = models.CharField(max_length=255, blank=True)
    recipients = models.TextField(blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True, help_text="Kept only for held mail, for the agent to read")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["status", "at"], name="mail_status_at")]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id}"
