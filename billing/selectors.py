"""Billing: reads, reports and querysets: what a person may see, the procurement-portal upload
worklist, credit notes awaiting a person's approval, what remains uncredited on an invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from customers.selectors import customers_visible_to
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.models import User
from otc.money import ZERO

from .models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, PortalSubmission

PortalStatus = PortalSubmission.Status
# Statuses that need our action by the due date: not yet uploaded, or rejected and to be corrected.
PORTAL_ACTION_NEEDED = (PortalStatus.PENDING, PortalStatus.REJECTED)
# An upload never made of an invoice voided since is nobody's task: the void cancelled it (the
# customer got a cancellation notice instead).
WITHDRAWN = Q(status=PortalStatus.PENDING, invoice__status="void")


class DaysBetween(Func):
    """Whole days from the second date to the first, computed by the database."""

    arity = 2
    output_field = IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra)


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Invoices of the customers the user may see (pages and API alike)."""
    return Invoice.objects.filter(customer__in=customers_visible_to(user).values("pk"))


def credit_notes_visible_to(user: User) -> QuerySet[CreditNote]:
    """Credit notes of the customers the user may see."""
    return CreditNote.objects.filter(customer__in=customers_visible_to(user).values("pk"))


def portal_submissions_visible_to(user: User) -> QuerySet[PortalSubmission]:
    return PortalSubmission.objects.filter(customer__in=customers_visible_to(user).values("pk"))


def portal_worklist(*, status: str | None = None, portal: str | None = None,
                    customer_search: str | None = None) -> QuerySet[PortalSubmission]:
    """Portal upload tasks by due date (oldest first), with `age_days` (days since the task was
    created, i.e. since issue) and `overdue` (past due and still needing our action: pending or
    rejected). Without `status`: every task not yet accepted. Invoice, credit note, customer and
    uploader come in the same query. `customer_search` matches the customer's name or account."""
    today = dates.today()
    rows = PortalSubmission.objects.select_related("invoice", "credit_note", "customer", "uploaded_by").exclude(WITHDRAWN)
    rows = rows.filter(status=status) if status else rows.exclude(status=PortalStatus.ACCEPTED)
    if portal:
        rows = rows.filter(portal=portal)
    if customer_search:
        rows = rows.filter(Q(customer__legal_name__icontains=customer_search)
                           | Q(customer__display_name__icontains=customer_search)
                           | Q(customer__account_number__icontains=customer_search))
    return rows.annotate(
        age_days=DaysBetween(Value(today, output_field=DateField()), TruncDate("created_at")),
        overdue=Case(When(status__in=PORTAL_ACTION_NEEDED, due_date__lt=today, then=Value(True)),
                     default=Value(False), output_field=BooleanField()),
    ).order_by("due_date", "id")


def portal_worklist_counts() -> dict[str, int]:
    """Number of portal upload tasks per status (every status present, zero when none)."""
    counts = dict.fromkeys(PortalStatus.values, 0)
    for row in PortalSubmission.objects.exclude(WITHDRAWN).order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def credit_notes_awaiting_approval(user: User) -> QuerySet[CreditNote]:
    """Requested credit notes this user may decide on: they hold billing.approve_creditnote, did
    not request the note themselves (segregation of duties), and its gross total is within their
    `credit_note` approval limit for its currency and legal entity (the service checks again).
    One query for the (currency, entity) pairs, one limit look-up per pair, then a queryset."""
    from otc.services import approval_limit

    if not user.has_perm("billing.approve_creditnote"):
        return CreditNote.objects.none()
    requested = CreditNote.objects.filter(status=CreditNote.Status.REQUESTED).exclude(requested_by=user)
    within = Q(pk__in=[])
    pairs = requested.order_by().values_list("currency", "legal_entity_id").distinct()
    for currency, entity_id in pairs:
        limit = approval_limit(user=user, kind="credit_note", currency=currency, legal_entity_id=entity_id)
        if limit > 0:
            within |= Q(currency=currency, legal_entity_id=entity_id, gross_total__lte=limit)
    return requested.filter(within)


def invoice_lines_uncredited(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines, each with `credited_net` and `credited_tax` (taken by requested,
    approved or issued credit notes) and `remaining_net` / `remaining_gross`: two queries."""
    lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    taken = (CreditNoteLine.objects.filter(invoice_line__invoice=invoice, credit_note__status__in=(
        CreditNote.Status.REQUESTED, CreditNote.Status.APPROVED, CreditNote.Status.ISSUED))
        .values("invoice_line_id").annotate(net=Sum("net_amount"), tax=Sum("tax_amount")).order_by())
    used = {row["invoice_line_id"]: (row["net"] or ZERO, row["tax"] or ZERO) for row in taken}
    for line in lines:
        net, tax = used.get(line.pk, (ZERO, ZERO))
        line.credited_net, line.credited_tax = Decimal(net), Decimal(tax)
        line.remaining_net = line.net_amount - line.credited_net
        line.remaining_gross = line.net_amount + line.tax_amount - line.credited_net - line.credited_tax
    return lines


def run_draft_totals(*, run_id: int) -> list[dict[str, Any]]:
    """A run's drafts by legal entity and currency, in one aggregate query: how many will be
    issued (not on hold) and their net, tax and gross totals, and how many are held."""
    rows = (Invoice.objects.filter(billing_run_id=run_id, status=Invoice.Status.DRAFT)
            .values("legal_entity__code", "legal_entity__name", "currency")
            .annotate(to_issue=Count("id", filter=Q(on_hold=False)), held=Count("id", filter=Q(on_hold=True)),
                      net=money_sum("net_total", filter=Q(on_hold=False)),
                      tax=money_sum("tax_total", filter=Q(on_hold=False)),
                      gross=money_sum("gross_total", filter=Q(on_hold=False)),
                      held_gross=money_sum("gross_total", filter=Q(on_hold=True)))
            .order_by("legal_entity__code", "currency"))
    return [{**row, "net": money_value(row["net"]), "tax": money_value(row["tax"]),
             "gross": money_value(row["gross"]), "held_gross": money_value(row["held_gross"])} for row in rows]


def run_issue_preview(*, run_id: int) -> dict[str, Any]:
    """What *Issue drafts* will do: the totals above, and how the invoices to issue will reach
    their customers (e-mail, procurement-portal upload task, post), counted by the customers'
    settings in one query."""
    from customers.models import Customer

    drafts = Invoice.objects.filter(billing_run_id=run_id, status=Invoice.Status.DRAFT, on_hold=False)
    channels = drafts.aggregate(
        portal=Count("id", filter=~Q(customer__procurement_portal=Customer.Portal.NONE)),
        post=Count("id", filter=Q(customer__procurement_portal=Customer.Portal.NONE,
                                  customer__invoice_delivery=Customer.Delivery.POST)),
        total=Count("id"))
    channels["email"] = channels["total"] - channels["portal"] - channels["post"]
    totals = run_draft_totals(run_id=run_id)
    return {"totals": totals, "channels": channels, "to_issue": channels["total"],
            "held": sum(row["held"] for row in totals)}


def run_documents_progress(*, run_id: int) -> dict[str, int]:
    """The month-end after issuing: of the run's issued invoices, how many have their PDF
    (rendered), were e-mailed (delivered), wait in the portal worklist (portal_ready) or to be
    printed (post), failed to send, and have any outcome at all (done). Four queries."""
    from django.db.models import Count, Exists, OuterRef

    from billing.models import Delivery

    issued = Invoice.objects.filter(billing_run_id=run_id).exclude(status=Invoice.Status.DRAFT)
    counts = issued.aggregate(issued=Count("pk"), rendered=Count("pk", filter=~Q(pdf_sha256="")))
    outcomes = Delivery.objects.filter(invoice__billing_run_id=run_id).aggregate(
        delivered=Count("invoice", distinct=True, filter=Q(channel=Delivery.Channel.EMAIL, status=Delivery.Status.SENT)),
        post=Count("invoice", distinct=True, filter=Q(channel=Delivery.Channel.POST)),
        failed=Count("invoice", distinct=True, filter=Q(status=Delivery.Status.FAILED)))
    portal_ready = PortalSubmission.objects.filter(invoice__billing_run_id=run_id).count()
    done = issued.filter(Exists(Delivery.objects.filter(invoice=OuterRef("pk")))).count()
    return {**counts, **outcomes, "portal_ready": portal_ready, "done": done}


def run_invoices(runs) -> QuerySet[Invoice]:
    """The invoices the billing runs made (drafts and issued, not void): what a run is worth."""
    return Invoice.objects.filter(billing_run__in=runs).exclude(status=Invoice.Status.VOID)


def runs_with_invoiced(runs: list) -> list:
    """The runs, each with `invoiced`: [{currency, gross}] of its invoices (not void), one query."""
    sums: dict[int, list[dict[str, Any]]] = {}
    for row in (run_invoices([run.pk for run in runs]).order_by("billing_run_id", "currency")
                .values("billing_run_id", "currency").annotate(gross=money_sum("gross_total"))):
        sums.setdefault(row["billing_run_id"], []).append({"currency": row["currency"], "gross": money_value(row["gross"])})
    for run in runs:
        run.invoiced = sums.get(run.pk, [])
    return runs
