"""Billing: reads, reports and querysets (here: the procurement-portal upload worklist)."""

from __future__ import annotations

from django.db.models import BooleanField, Case, Count, DateField, Func, IntegerField, QuerySet, Value, When
from django.db.models.functions import TruncDate

from otc import dates

from .models import PortalSubmission

PortalStatus = PortalSubmission.Status
# Statuses that need our action by the due date: not yet uploaded, or rejected and to be corrected.
PORTAL_ACTION_NEEDED = (PortalStatus.PENDING, PortalStatus.REJECTED)


class DaysBetween(Func):
    """Whole days from the second date to the first, computed by the database."""

    arity = 2
    output_field = IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra)


def portal_worklist(*, status: str | None = None, portal: str | None = None) -> QuerySet[PortalSubmission]:
    """Portal upload tasks by due date (oldest first), with `age_days` (days since the task was
    created, i.e. since issue) and `overdue` (past due and still needing our action: pending or
    rejected). Without `status`: every task not yet accepted. Invoice, credit note, customer and
    uploader come in the same query."""
    today = dates.today()
    rows = PortalSubmission.objects.select_related("invoice", "credit_note", "customer", "uploaded_by")
    rows = rows.filter(status=status) if status else rows.exclude(status=PortalStatus.ACCEPTED)
    if portal:
        rows = rows.filter(portal=portal)
    return rows.annotate(
        age_days=DaysBetween(Value(today, output_field=DateField()), TruncDate("created_at")),
        overdue=Case(When(status__in=PORTAL_ACTION_NEEDED, due_date__lt=today, then=Value(True)),
                     default=Value(False), output_field=BooleanField()),
    ).order_by("due_date", "id")


def portal_worklist_counts() -> dict[str, int]:
    """Number of portal upload tasks per status (every status present, zero when none)."""
    counts = dict.fromkeys(PortalStatus.values, 0)
    for row in PortalSubmission.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
