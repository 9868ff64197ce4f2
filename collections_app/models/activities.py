"""Collector activities: calls, e-mails, meetings and notes with their outcome and next action.

An activity is logged in one step, possibly with a promise to pay or a dispute taken in the same
conversation (linked here). The customer's next action is the one of its latest activity.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"
    STATEMENT = "statement", "Statement sent"


class ActivityOutcome(models.TextChoices):
    REACHED = "reached", "Reached, discussed"
    PROMISED = "promised", "Promised to pay"
    DISPUTED = "disputed", "Raised a dispute"
    PAID_CLAIMED = "paid_claimed", "Says it has paid"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    REFUSED = "refused", "Refuses to pay"
    WRONG_CONTACT = "wrong_contact", "Wrong contact"
    SENT = "sent", "Sent"
    INFO = "info", "For the record"


class Activity(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="collection_activities")
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    outcome = models.CharField(max_length=15, choices=ActivityOutcome.choices)
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    next_action = models.CharField(max_length=200, blank=True)
    next_action_date = models.DateField(null=True, blank=True)
    promise = models.ForeignKey("collections_app.PromiseToPay", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="activities")
    dispute = models.ForeignKey("collections_app.Dispute", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="activities")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(help_text="When it happened")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_id} {self.at:%Y-%m-%d}"

    @property
    def is_contact(self) -> bool:
        """A real contact attempt with the customer (a note or a statement is not one)."""
        return self.kind in (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)
