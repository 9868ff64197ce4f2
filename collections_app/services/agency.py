"""Agency and legal placements: agencies, placing invoices (never twice), status changes with
their history, the documents pack (statement and invoice PDFs zipped) and recoveries.

A recovery posts one balanced entry through the ledger: debit cash with what the agency remits
(net), debit the agency's fee expense account with its fee, credit AR with the gross recovered
(settling the invoice's open item); the invoice's paid amount moves with it (billing's service).
A settlement for less than the balance sends the rest into the write-off flow: settling the
placement requests (and submits) a write-off of what is still open, reason "settlement".
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any, cast

from django.db import transaction

from billing.models import Invoice
from collections_app.models import Agency, Placement, PlacementItem, Recovery
from ledger.models import Account
from ledger.services import LineSpec, journal_post
from otc import dates
from otc.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import check_plausible, money_text, quantize
from otc.services import ensure_transition, record_status_change

HUNDRED = Decimal(100)
PLACEABLE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


def _open(invoice: Invoice) -> Decimal:
    """What is still open on the invoice: its balance, less anything written off on its open item."""
    item = invoice.open_item
    return min(invoice.balance_due, item.open_amount) if item is not None else invoice.balance_due


def _require(by: User | None, what: str) -> None:
    if by is not None and not by.has_perm("collections_app.place_with_agency"):
        raise PermissionDenied(f"Your role may not {what}.")


@transaction.atomic
def agency_save(*, legal_entity_id: int, name: str, fee_percent: Decimal, fee_account_id: int, by: User | None,
                kind: str = Agency.Kind.AGENCY, contact_name: str = "", email: str = "", phone: str = "",
                agency_id: int | None = None) -> Agency:
    _require(by, "manage agencies")
    if not (name or "").strip():
        raise ValidationFailed("Name the agency.", fields={"name": ["required"]})
    fee_percent = Decimal(fee_percent)
    if not Decimal(0) <= fee_percent <= HUNDRED:
        raise ValidationFailed("The fee is a percentage between 0 and 100.", fields={"fee_percent": ["range"]})
    account = Account.objects.filter(pk=fee_account_id, legal_entity_id=legal_entity_id).first()
    if account is None or account.type != Account.Type.EXPENSE:
        raise ValidationFailed("The fee account must be an expense account of the same legal entity.",
                               fields={"fee_account": ["not an expense account of the entity"]})
    values = {"legal_entity_id": legal_entity_id, "name": name.strip(), "kind": kind, "fee_percent": fee_percent,
              "fee_account": account, "contact_name": contact_name, "email": email, "phone": phone}
    if agency_id:
        Agency.objects.filter(pk=agency_id).update(**values)
        return Agency.objects.get(pk=agency_id)
    return Agency.objects.create(**values)


@transaction.atomic(durable=True)
def placement_create(*, agency_id: int, customer_id: int, invoice_ids: list[int], by: User | None,
                     placed_on: dt.date | None = None, note: str = "") -> Placement:
    """Place some of a customer's open invoices (one entity and currency) with an agency. An
    invoice already in an active placement is refused, naming where it is."""
    _require(by, "place invoices with an agency")
    agency = Agency.objects.filter(pk=agency_id, is_active=True).first()
    if agency is None:
        raise NotFound(f"Agency {agency_id} does not exist or is inactive.")
    if not invoice_ids:
        raise ValidationFailed("Choose the invoices to place.", fields={"invoice_ids": ["required"]})
    from billing.services.invoices import lock_invoices

    invoices = list(lock_invoices(invoice_ids).select_related("open_item"))
    if len(invoices) != len(set(invoice_ids)):
        raise ValidationFailed("An invoice to place does not exist.")
    for invoice in invoices:
        if invoice.customer_id != customer_id or invoice.legal_entity_id != agency.legal_entity_id:
            raise ValidationFailed(f"Invoice {invoice.number} is not the customer's invoice in {agency}'s entity.")
        if invoice.status not in PLACEABLE or _open(invoice) <= 0:
            raise ValidationFailed(f"Invoice {invoice.number or invoice.pk} has nothing open to place.")
    if len({invoice.currency for invoice in invoices}) > 1:
        raise ValidationFailed("Place invoices of one currency at a time.")
    taken = dict(PlacementItem.objects.filter(invoice_id__in=invoice_ids, active=True)
                 .values_list("invoice_id", "placement_id"))
    if taken:
        numbers = ", ".join(f"{i.number} (placement #{taken[i.pk]})" for i in invoices if i.pk in taken)
        raise Conflict(f"Already placed: {numbers}. An invoice is placed once; recall it first.")
    placement = Placement.objects.create(agency=agency, legal_entity_id=agency.legal_entity_id,
                                         customer_id=customer_id, currency=invoices[0].currency,
                                         placed_on=placed_on or dates.today(), note=note, placed_by=by)
    # Each invoice is issued with something open (checked above): its posting opened its AR open item.
    PlacementItem.objects.bulk_create([PlacementItem(placement=placement, invoice=i,
                                                     open_item_id=cast(int, i.open_item_id),
                                                     amount_placed=_open(i)) for i in invoices])
    return placement


@transaction.atomic
def placement_transition(*, placement_id: int, to: str, by: User | None, note: str = "") -> Placement:
    _require(by, "change placements")
    placement = Placement.objects.select_for_update().filter(pk=placement_id).first()
    if placement is None:
        raise NotFound(f"Placement {placement_id} does not exist.")
    before = placement.status
    ensure_transition(placement, to=to)
    placement.status = to
    placement.save(update_fields=["status", "updated_at"])
    if to in Placement.ENDED:  # closed or recalled: the invoices may be dunned or placed again
        placement.items.update(active=False)
    record_status_change(placement, by=by, from_state=before, note=note)
    if to == Placement.Status.SETTLED:
        _settlement_writeoff(placement, by=by, note=note)
    return placement


def _settlement_writeoff(placement: Placement, *, by: User | None, note: str = "") -> Any:
    """A settlement for less than the balance leads to the write-off flow: the placed invoices
    still open (and not already in a live write-off or under an open dispute) go into one
    write-off request (reason "settlement") by whoever settled, submitted for approval. When that
    person may not request write-offs, the rest stays open for a write-off requested by hand."""
    from collections_app.models import Dispute
    from collections_app.models.disputes import OPEN_DISPUTE_STATUSES
    from collections_app.models.writeoffs import LIVE_STATUSES, WriteOffLine, WriteOffReason
    from collections_app.services.writeoffs import writeoff_request_within

    if by is None or not by.has_perm("collections_app.request_writeoff"):
        return None
    items = list(placement.items.select_related("invoice__open_item").order_by("id"))
    ids = [item.invoice_id for item in items]
    busy = set(WriteOffLine.objects.filter(invoice_id__in=ids, write_off__status__in=LIVE_STATUSES)
               .values_list("invoice_id", flat=True))
    busy |= set(Dispute.objects.filter(invoice_id__in=ids, status__in=OPEN_DISPUTE_STATUSES)
                .values_list("invoice_id", flat=True))
    rest = [item.invoice for item in items if item.invoice_id not in busy
            and item.invoice.status in PLACEABLE and _open(item.invoice) > 0]
    if not rest:
        return None
    numbers = ", ".join(f"{i.number} ({money_text(_open(i), i.currency)})" for i in rest)
    explanation = (f"Placement #{placement.pk} with {placement.agency.name} settled for less than the balance; "
                   f"still open: {numbers}." + (f" {note.strip()}" if (note or "").strip() else ""))
    return writeoff_request_within(invoice_ids=[i.pk for i in rest], reason=WriteOffReason.SETTLEMENT,
                                   explanation=explanation, by=by)


def placement_write_offs(*, placement: Placement) -> list[Any]:
    """The write-offs (settlement or after-agency) of the placement's invoices, newest first."""
    from collections_app.models.writeoffs import WriteOff, WriteOffReason

    invoice_ids = list(placement.items.values_list("invoice_id", flat=True))
    return list(WriteOff.objects.filter(lines__invoice_id__in=invoice_ids,
                                        reason__in=[WriteOffReason.SETTLEMENT, WriteOffReason.AGENCY])
                .distinct().order_by("-id"))


@transaction.atomic(durable=True)
def recovery_record(*, placement_id: int, invoice_id: int, amount: Decimal, by: User | None,
                    received_on: dt.date | None = None) -> Recovery:
    """The agency collected `amount` (gross) on a placed invoice and remits it less its fee."""
    _require(by, "record recoveries")
    placement = Placement.objects.select_for_update().select_related("agency").filter(pk=placement_id).first()
    if placement is None:
        raise NotFound(f"Placement {placement_id} does not exist.")
    if not placement.is_active:
        raise InvalidTransition(f"{placement} is {placement.get_status_display().lower()}: no recoveries.")
    item = placement.items.select_for_update().filter(invoice_id=invoice_id).first()
    if item is None:
        raise ValidationFailed("This invoice is not in the placement.", fields={"invoice_id": ["not placed"]})
    from billing.services import invoices_record_payments, lock_invoices

    invoice = lock_invoices([invoice_id]).select_related("open_item").first()
    assert invoice is not None  # the placement item's invoice (a protected foreign key)
    amount = quantize(check_plausible(Decimal(amount), invoice.currency, field="amount"), invoice.currency)
    if amount <= 0:
        raise ValidationFailed("The amount recovered must be positive.", fields={"amount": ["positive"]})
    if amount > _open(invoice):
        raise ValidationFailed(f"Invoice {invoice.number} has {money_text(_open(invoice), invoice.currency)} "
                               f"open; {money_text(amount, invoice.currency)} is more.", fields={"amount": ["too much"]})
    fee = quantize(amount * placement.agency.fee_percent / HUNDRED, invoice.currency)
    net = amount - fee
    on = received_on or dates.today()
    lines = [LineSpec(amount=net, role=Account.Role.CASH, description=f"Remitted by {placement.agency.name}"),
             LineSpec(amount=-amount, role=Account.Role.AR, customer_id=invoice.customer_id,
                      settle_item_id=invoice.open_item_id, description=f"Invoice {invoice.number} recovered")]
    if fee:
        lines.insert(1, LineSpec(amount=fee, account_id=placement.agency.fee_account_id,
                                 description=f"{placement.agency.name} fee {placement.agency.fee_percent}%"))
    entry = journal_post(legal_entity_id=invoice.legal_entity_id, kind="receipt", document_date=on, by=by,
                         currency=invoice.currency, lines=lines, source=placement,
                         source_reference=invoice.number, memo=f"Recovery through {placement.agency.name}")
    invoices_record_payments(changes={invoice.pk: amount}, by=by, note=f"recovered through {placement.agency.name}")
    item.recovered += amount
    item.save(update_fields=["recovered"])
    return Recovery.objects.create(placement=placement, item=item, received_on=on, currency=invoice.currency,
                                   gross=amount, fee=fee, net=net, journal_entry=entry, recorded_by=by)


def placement_documents_zip(*, placement_id: int) -> tuple[str, bytes]:
    """The pack for the agency: the customer's statement and each placed invoice's stored PDF
    (checked against its SHA-256), zipped."""
    from billing.integrity import verified_pdf
    from billing.pdf import invoice_store_pdf
    from receivables.statements import statement_pdf

    placement = Placement.objects.select_related("customer").get(pk=placement_id)
    items = list(placement.items.select_related("invoice").order_by("id"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as pack:
        first = min(cast(dt.date, i.invoice.issue_date) for i in items)  # placed invoices were issued: dated
        pack.writestr(f"statement-{placement.customer.account_number}.pdf", statement_pdf(
            customer_id=placement.customer_id, legal_entity_id=placement.legal_entity_id, currency=placement.currency,
            date_from=first, date_to=dates.today()))
        for item in items:
            invoice = item.invoice if item.invoice.pdf_sha256 else invoice_store_pdf(invoice_id=item.invoice_id)
            pack.writestr(f"{invoice.number}.pdf", verified_pdf(invoice))
        pack.writestr("placement.txt", _summary(placement, items))
    return f"placement-{placement.pk}-{placement.customer.account_number}.zip", buffer.getvalue()


def _summary(placement: Placement, items: list[Any]) -> str:
    rows = [f"Placement #{placement.pk} with {placement.agency.name} on {placement.placed_on:%Y-%m-%d}",
            f"Customer: {placement.customer.legal_name} ({placement.customer.account_number})", ""]
    rows += [f"{i.invoice.number}\tdue {i.invoice.due_date:%Y-%m-%d}\t{money_text(i.amount_placed, placement.currency)}"
             for i in items]
    return "\n".join(rows) + "\n"
