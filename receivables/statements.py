"""Customer statements: what the customer owes one legal entity in one currency, as a PDF
(WeasyPrint) and by e-mail to the customer's billing contacts.

Everything is read from the ledger: the journal lines on the customer's subledger accounts (AR
and unapplied cash) of the entity, in the currency, dated by their document date.

- Opening balance: the lines dated before `date_from`.
- The period: one row per journal entry (invoice, credit note, receipt, refund, application,
  reversal, write-off), its net amount as debit or credit and the running balance. An application
  moves cash from unapplied to the invoice and nets to zero: it is listed for information.
- Closing balance: opening plus the period.
- Open items at `date_to`: per open item, the sum of its lines dated up to `date_to` (so a
  statement for a past month shows what was open then), aged by days past due at `date_to`:
  current, 1-30, 31-60, 61-90, over 90. The open items add up to the closing balance.
- Remittance instructions: the entity's bank details, as on the invoice PDF.

Receipts nobody has identified yet sit in suspense and are on nobody's statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, DateField, F, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string

from billing.wording import bank_rows, postal_address, tax_label
from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import ZERO, format_amount, quantize, validate_currency
from otc.services import outbox_emit
from receivables.models import BankAccount, Receipt, StatementDelivery

BUCKETS: list[tuple[str, str]] = [
    ("current", "Current"), ("1_30", "1-30 days"), ("31_60", "31-60 days"), ("61_90", "61-90 days"),
    ("over_90", "Over 90 days"),
]
DOCUMENT_LABELS = {"invoice": "Invoice", "credit_note": "Credit note", "receipt": "Payment",
                   "write_off": "Write-off", "opening": "Opening balance"}


def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1_30"
    if days_past_due <= 60:
        return "31_60"
    return "61_90" if days_past_due <= 90 else "over_90"


@dataclass(frozen=True)
class StatementLine:
    date: dt.date
    kind: str  # invoice, credit_note, payment, refund, application, reversal, write_off, ...
    label: str
    reference: str
    description: str
    amount: Decimal  # + raises what the customer owes, - lowers it, 0 for an application
    balance: Decimal

    @property
    def debit(self) -> Decimal | None:
        return self.amount if self.amount > 0 else None

    @property
    def credit(self) -> Decimal | None:
        return -self.amount if self.amount < 0 else None


@dataclass(frozen=True)
class StatementOpenItem:
    document_type: str
    label: str
    number: str
    document_date: dt.date
    due_date: dt.date
    original_amount: Decimal
    open_amount: Decimal
    days_past_due: int
    bucket: str


@dataclass
class Statement:
    customer: Customer
    legal_entity: LegalEntity
    currency: str
    date_from: dt.date
    date_to: dt.date
    opening_balance: Decimal
    lines: list[StatementLine]
    closing_balance: Decimal
    open_items: list[StatementOpenItem]
    ageing: dict[str, Decimal]
    remittance: dict[str, Any] = field(default_factory=dict)
    #: The open items the statement shows: those moved in the period and those open at its end.
    open_item_ids: frozenset[int] = frozenset()

    @property
    def total_debits(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount > 0), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((-line.amount for line in self.lines if line.amount < 0), ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum((amount for key, amount in self.ageing.items() if key != "current"), ZERO)


def _subledger_lines(customer_id: int, legal_entity_id: int, currency: str):
    return JournalLine.objects.filter(customer_id=customer_id, account__legal_entity_id=legal_entity_id,
                                      account__role__in=Account.SUBLEDGER_ROLES, currency=currency)


def _kind(entry_kind: str, amount: Decimal) -> tuple[str, str]:
    if entry_kind == JournalEntry.Kind.RECEIPT:
        return ("payment", "Payment received") if amount < 0 else ("refund", "Refund")
    if entry_kind == JournalEntry.Kind.APPLICATION:
        return "application", "Payment applied"
    if entry_kind == JournalEntry.Kind.REVERSAL:
        return "reversal", "Reversal"
    return entry_kind, JournalEntry.Kind(entry_kind).label if entry_kind in JournalEntry.Kind.values else entry_kind


def _remittance(entity: LegalEntity, currency: str) -> dict[str, Any]:
    """The entity's bank details as on the invoice PDF; without any, its bank account in the currency."""
    details = {"legal_name": entity.legal_name, "bank_account_name": entity.bank_account_name or entity.legal_name,
               "bank_name": entity.bank_name, "iban": entity.iban, "bic": entity.bic,
               "bank_account_number": entity.bank_account_number, "bank_routing_number": entity.bank_routing_number,
               "remittance_note": entity.remittance_note, "email": entity.email}
    if not (entity.iban or entity.bank_account_number):
        account = (BankAccount.objects.filter(legal_entity=entity, currency=currency, is_active=True)
                   .order_by("pk").first())
        if account is not None:
            details |= {"bank_name": account.bank_name, "bank_account_number": account.account_number,
                        "bic": account.bic}
    return details


def customer_statement(*, customer_id: int, legal_entity_id: int, currency: str, date_from: dt.date,
                       date_to: dt.date) -> Statement:
    """The statement (rules in the module docstring). Refuses an unknown customer or entity and a
    period that ends before it starts."""
    currency = validate_currency(currency)
    if date_from > date_to:
        raise ValidationFailed(f"The statement period starts {date_from} after it ends {date_to}.",
                               fields={"date_from": ["after date_to"]})
    customer = Customer.objects.filter(pk=customer_id).first()
    entity = LegalEntity.objects.filter(pk=legal_entity_id).first()
    if customer is None or entity is None:
        raise NotFound(f"{'Customer' if customer is None else 'Legal entity'} "
                       f"{customer_id if customer is None else legal_entity_id} does not exist.")
    # a receipt's entries (recording, identification, applications) are dated by its value date
    # throughout, never by the day it was imported or identified (issue 14)
    value_date = Receipt.objects.filter(legal_entity_id=legal_entity_id,
                                        number=OuterRef("entry__source_reference")).values("value_date")[:1]
    received = Q(entry__kind=JournalEntry.Kind.APPLICATION) | (
        Q(entry__kind=JournalEntry.Kind.RECEIPT) & ~Q(entry__memo__startswith="Refund")
        & ~Q(entry__memo__contains=" returned"))  # refunds and returns keep their own day
    lines = _subledger_lines(customer_id, legal_entity_id, currency).annotate(on=Case(
        When(received, then=Coalesce(Subquery(value_date, output_field=DateField()), F("entry__document_date"))),
        default=F("entry__document_date"), output_field=DateField()))
    opening = money_value(lines.filter(on__lt=date_from).aggregate(total=money_sum("amount"))["total"])
    per_entry = (
        lines.filter(on__gte=date_from, on__lte=date_to)
        .values("entry_id", "entry__kind", "on", "entry__source_reference", "entry__memo")
        .annotate(total=money_sum("amount")).order_by("on", "entry_id")
    )
    rows, balance = [], opening
    for group in per_entry:
        amount = quantize(money_value(group["total"]), currency)
        balance += amount
        kind, label = _kind(group["entry__kind"], amount)
        rows.append(StatementLine(date=group["on"], kind=kind, label=label,
                                  reference=group["entry__source_reference"], description=group["entry__memo"],
                                  amount=amount, balance=quantize(balance, currency)))
    items = (
        lines.filter(on__lte=date_to, open_item__isnull=False)
        .values("open_item_id", "open_item__document_type", "open_item__document_number",
                "open_item__document_date", "open_item__due_date", "open_item__original_amount")
        .annotate(open=money_sum("amount")).exclude(open=0).order_by("open_item__due_date", "open_item_id")
    )
    ageing = {key: ZERO for key, _ in BUCKETS}
    open_items, shown = [], set(lines.filter(on__gte=date_from, on__lte=date_to, open_item__isnull=False)
                                .values_list("open_item_id", flat=True).distinct())
    for item in items:
        shown.add(item["open_item_id"])
        open_amount = quantize(money_value(item["open"]), currency)
        if open_amount == 0:
            continue
        days = (date_to - item["open_item__due_date"]).days
        bucket = bucket_of(days)
        ageing[bucket] += open_amount
        kind = item["open_item__document_type"]
        open_items.append(StatementOpenItem(
            document_type=kind, label=DOCUMENT_LABELS.get(kind, kind.replace("_", " ").capitalize()),
            number=item["open_item__document_number"], document_date=item["open_item__document_date"],
            due_date=item["open_item__due_date"], open_amount=open_amount, days_past_due=max(days, 0), bucket=bucket,
            original_amount=quantize(money_value(item["open_item__original_amount"]), currency)))
    return Statement(customer=customer, legal_entity=entity, currency=currency, date_from=date_from, date_to=date_to,
                     opening_balance=quantize(opening, currency), lines=rows,
                     closing_balance=quantize(balance, currency), open_items=open_items, ageing=ageing,
                     remittance=_remittance(entity, currency), open_item_ids=frozenset(shown))


def statement_currencies(*, customer_id: int) -> list[tuple[int, str, str]]:
    """(legal entity id, currency, entity code) the customer has subledger postings in."""
    rows = (JournalLine.objects.filter(customer_id=customer_id, account__role__in=Account.SUBLEDGER_ROLES)
            .values_list("account__legal_entity_id", "currency", "account__legal_entity__code").distinct()
            .order_by("account__legal_entity__code", "currency"))
    return list(rows)


def statement_file_name(*, customer: Customer, currency: str, date_to: dt.date) -> str:
    return f"statement-{customer.account_number}-{currency}-{date_to:%Y-%m-%d}.pdf"


ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")


def _address(party: Customer | LegalEntity) -> list[str]:
    """In the country's order, as on the invoice (billing.wording.postal_address)."""
    return postal_address({name: getattr(party, name) for name in ADDRESS_FIELDS})


def statement_pdf_context(statement: Statement) -> dict[str, Any]:
    cur = statement.currency

    def fmt(amount: Decimal | None) -> str:
        return format_amount(amount, cur) if amount is not None else ""

    return {
        "statement": statement, "currency": cur, "customer": statement.customer, "entity": statement.legal_entity,
        "customer_address": _address(statement.customer), "entity_address": _address(statement.legal_entity),
        "opening_balance": fmt(statement.opening_balance), "closing_balance": fmt(statement.closing_balance),
        "total_debits": fmt(statement.total_debits), "total_credits": fmt(statement.total_credits),
        "overdue": fmt(statement.overdue), "remit": statement.remittance,
        "bank_rows": bank_rows(statement.remittance, statement.legal_entity.country),
        "tax_label": tax_label(statement.legal_entity.country),
        "lines": [{"line": line, "debit": fmt(line.debit), "credit": fmt(line.credit), "balance": fmt(line.balance)}
                  for line in statement.lines],
        "open_items": [{"item": item, "original": fmt(item.original_amount), "open": fmt(item.open_amount),
                        "bucket": dict(BUCKETS)[item.bucket]} for item in statement.open_items],
        "ageing": [{"key": key, "label": label, "amount": fmt(statement.ageing[key])} for key, label in BUCKETS],
        "generated_on": dates.today(),
    }


def statement_render_pdf(statement: Statement) -> bytes:
    from weasyprint import HTML  # heavy import: only where PDFs are made

    html = render_to_string("receivables/pdf/statement.html", statement_pdf_context(statement))
    return HTML(string=html).write_pdf()


def statement_pdf(*, customer_id: int, legal_entity_id: int, currency: str, date_from: dt.date,
                  date_to: dt.date) -> bytes:
    """The statement as PDF bytes (A4)."""
    return statement_render_pdf(customer_statement(customer_id=customer_id, legal_entity_id=legal_entity_id,
                                                   currency=currency, date_from=date_from, date_to=date_to))


def statement_invoice_ids(statement: Statement) -> list[int]:
    """The invoices a statement covers: the invoice open items it shows (each points at its invoice)."""
    from billing.models import Invoice

    return sorted(OpenItem.objects.filter(pk__in=statement.open_item_ids, document_type="invoice",
                                          source_type=ContentType.objects.get_for_model(Invoice))
                  .values_list("source_id", flat=True))


@dataclass(frozen=True)
class StatementSent:
    message_id: str
    recipients: list[str]
    file_name: str


def statement_email(*, customer_id: int, legal_entity_id: int, currency: str, date_from: dt.date,
                    date_to: dt.date, by: User) -> StatementSent:
    """E-mail the statement PDF to the customer's billing contacts. Who sent it, when, to whom and
    the Message-ID are recorded as a `customer.statement_sent` outbox event (the customer's
    timeline and webhooks read it) and as a `StatementDelivery` linked to the invoices the statement
    covered (each invoice's communication log reads it). Refused without a billing contact; a transport error propagates
    and records nothing."""
    if not by.has_perm("ledger.view_openitem") or not customers_visible_to(by).filter(pk=customer_id).exists():
        raise PermissionDenied("You may not send this customer's statement.")
    statement = customer_statement(customer_id=customer_id, legal_entity_id=legal_entity_id, currency=currency,
                                   date_from=date_from, date_to=date_to)
    customer, entity = statement.customer, statement.legal_entity
    recipients = list(customer.contacts.filter(is_billing_contact=True).exclude(email="").order_by("id")
                      .values_list("email", flat=True))
    if not recipients:
        raise ValidationFailed(f"{customer.legal_name} has no billing contact with an e-mail address.",
                               fields={"contacts": ["no billing contact"]})
    content = statement_render_pdf(statement)
    name = statement_file_name(customer=customer, currency=statement.currency, date_to=date_to)
    context = statement_pdf_context(statement)
    from_email = entity.email or settings.DEFAULT_FROM_EMAIL
    message_id = make_msgid(domain=(from_email.rpartition("@")[2] or None))
    message = EmailMessage(
        subject=render_to_string("receivables/email/statement_subject.txt", context).strip(),
        body=render_to_string("receivables/email/statement_body.txt", context),
        from_email=from_email, to=recipients, headers={"Message-ID": message_id},
    )
    message.attach(name, content, "application/pdf")
    message.send(fail_silently=False)
    sent_at = dates.now()
    with transaction.atomic():
        delivery = StatementDelivery.objects.create(
            customer=customer, legal_entity=entity, currency=statement.currency, date_from=date_from, date_to=date_to,
            closing_balance=statement.closing_balance, recipients=recipients, message_id=message_id, sent_by=by,
            sent_at=sent_at)
        delivery.invoices.set(statement_invoice_ids(statement))
        outbox_emit(topic="customer.statement_sent", subject_type="customer", subject_id=customer.pk, payload={
            "customer_id": customer.pk, "legal_entity": entity.code, "currency": statement.currency,
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
            "closing_balance": str(statement.closing_balance), "recipients": recipients, "message_id": message_id,
            "sent_by": by.username, "sent_at": sent_at.isoformat(),
        })
    return StatementSent(message_id=message_id, recipients=recipients, file_name=name)


__all__ = ["BUCKETS", "Statement", "StatementLine", "StatementOpenItem", "StatementSent", "bucket_of",
           "customer_statement", "statement_currencies", "statement_email",
           "statement_file_name", "statement_invoice_ids", "statement_pdf", "statement_pdf_context", "statement_render_pdf"]
