"""Invoices: computing lines, manual drafts, issuing (numbers, postings), void, hold and release.

Decisions (see the report in docs / the issue):
- Tax is computed per line and rounded per line (ROUND_HALF_UP); totals sum the rounded lines.
- The date of supply decides the tax rate: the line's service end, else the invoice's, else today.
- `invoices_issue` is set-based: it locks the drafts in primary-key order, takes the numbers of
  one (legal entity, year) group in ONE `number_series_take` call, posts the group's entries in
  ONE `journal_post_batch` and writes the invoices, their history, status rows and outbox events
  in bulk, all in the same transaction; the queries per chunk do not grow with its size. Anything failing rolls the whole chunk back and the numbers return to the
  series (gapless). Drafts that are not drafts or are on hold are skipped and reported.
- A zero-total invoice (a free period) is issued with a number, but posts no journal entry and
  opens no open item: the ledger refuses empty entries and there is nothing to collect. A
  negative total is refused (a credit note corrects an invoice).
- Issued invoices are immutable: every draft-editing service calls `ensure_draft`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet

from billing.models import Invoice, InvoiceLine, TaxCode
from billing.snapshots import bill_to_snapshot, seller_snapshot
from billing.tax import tax_code_for
from contracts.models import Product
from customers.models import Customer
from ledger.models import Account, LegalEntity
from ledger.services import (
    EntrySpec,
    LineSpec,
    OpenItemSpec,
    journal_numbers_reserve,
    journal_post_batch,
    number_series_take,
)
from otc import dates
from otc.bulk import bulk_update_rows, history_insert, relate
from otc.errors import InvalidTransition, LimitExceeded, PermissionDenied, ValidationFailed
from otc.models import ApprovalLimit, User
from otc.money import (
    ZERO,
    check_plausible,
    check_plausible_quantity,
    money_text,
    quantize,
    to_decimal,
    validate_currency,
)
from otc.registry import credit_holds
from otc.services import (
    approval_limit,
    outbox_emit_many,
    record_status_change,
    record_status_changes,
)

HUNDRED = Decimal(100)


# --- computing --------------------------------------------------------------------------------

def invoice_compute_line(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal, currency: str,
) -> tuple[Decimal, Decimal]:
    """(net, tax) of one line, each rounded once to the currency's minor unit (ROUND_HALF_UP):
    net = qty x price x (1 - discount/100); tax = net x rate/100."""
    quantity, unit_price = to_decimal(quantity), to_decimal(unit_price)
    discount_percent, tax_rate = to_decimal(discount_percent), to_decimal(tax_rate)
    if not ZERO <= discount_percent <= HUNDRED:
        raise ValidationFailed(f"A discount is between 0 and 100%, not {discount_percent}%.")
    if tax_rate < 0:
        raise ValidationFailed(f"A tax rate cannot be negative ({tax_rate}%).")
    net = quantize(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED, currency)
    return net, line_tax(net=net, tax_rate=tax_rate, currency=currency)


def line_tax(*, net: Decimal, tax_rate: Decimal, currency: str) -> Decimal:
    """The tax of a line whose net is known (rounded once, ROUND_HALF_UP). The billing run uses
    it for prorated lines, whose net comes from the unrounded unit price (billing/periods.py)."""
    tax_rate = to_decimal(tax_rate)
    if tax_rate < 0:
        raise ValidationFailed(f"A tax rate cannot be negative ({tax_rate}%).")
    return quantize(to_decimal(net) * tax_rate / HUNDRED, currency)


def _recompute_totals(invoice: Invoice, lines: list[InvoiceLine] | None = None) -> None:
    sums = {"net": ZERO, "tax": ZERO}
    for line in invoice.lines.all() if lines is None else lines:
        sums["net"] += line.net_amount
        sums["tax"] += line.tax_amount
    invoice.net_total = quantize(sums["net"], invoice.currency)
    invoice.tax_total = quantize(sums["tax"], invoice.currency)
    invoice.gross_total = invoice.net_total + invoice.tax_total


# --- guards and locks ---------------------------------------------------------------------------

def lock_invoices(ids: list[int]) -> QuerySet[Invoice]:
    """Invoices locked FOR UPDATE in primary-key order (deadlock-free across batches)."""
    return Invoice.objects.select_for_update(of=("self",)).filter(pk__any=sorted(set(ids))).order_by("pk")


def ensure_draft(invoice: Invoice) -> None:
    """Issued invoices are immutable: only drafts may change their lines, amounts or parties."""
    if invoice.status != Invoice.Status.DRAFT:
        raise InvalidTransition(
            f"Invoice {invoice} is {invoice.get_status_display().lower()} and cannot be changed: "
            "correct it with a credit note or void it."
        )


def require_perm(by: User | None, perm: str, what: str) -> None:
    if by is None or not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


# --- drafts -------------------------------------------------------------------------------------

def _obj(data: dict[str, Any], name: str, model: Any) -> Any:
    value = data.get(name) if data.get(name) is not None else data.get(f"{name}_id")
    if value is None:
        raise ValidationFailed(f"Choose the {name.replace('_', ' ')}.", fields={name: ["required"]})
    if isinstance(value, model):
        return value
    found = model.objects.filter(pk=value).first()
    if found is None:
        raise ValidationFailed(f"The {name.replace('_', ' ')} {value} does not exist.", fields={name: ["not found"]})
    return found


def _build_lines(invoice: Invoice, lines: list[dict[str, Any]]) -> list[InvoiceLine]:
    if not lines:
        raise ValidationFailed("An invoice needs at least one line.", fields={"lines": ["required"]})
    built = []
    for position, row in enumerate(lines, start=1):
        product: Product | None = _obj(row, "product", Product) if (row.get("product") or row.get("product_id")) else None
        category = row.get("tax_category") or (product.tax_category if product else "")
        if not category:
            raise ValidationFailed(f"Line {position}: give a product or a tax category.", fields={"lines": [position]})
        description = (row.get("description") or (product.name if product else "")).strip()
        if not description:
            raise ValidationFailed(f"Line {position}: describe what is charged.", fields={"lines": [position]})
        unit = row.get("unit") or (product.unit if product else None) or None
        quantity = check_plausible_quantity(to_decimal(row.get("quantity", 1)), unit, field="quantity")
        if row.get("unit_price") is not None:
            unit_price = check_plausible(to_decimal(row["unit_price"]), invoice.currency,
                                         what=f"Line {position}: the unit price", field="unit_price")
        elif product is not None and product.currency == invoice.currency:
            unit_price = to_decimal(product.default_price)
        else:
            what = f"{product.sku}'s list price is in {product.currency}" if product else "there is no product"
            raise ValidationFailed(f"Line {position}: give a unit price in {invoice.currency} ({what}).",
                                   fields={"lines": [position]})
        discount = to_decimal(row.get("discount_percent") or 0)
        service_start = row.get("service_start") or invoice.service_start
        service_end = row.get("service_end") or invoice.service_end
        supply_date = service_end or service_start or dates.today()
        code: TaxCode = tax_code_for(
            seller_country=invoice.legal_entity.country, customer=invoice.customer, category=category, on=supply_date,
        )
        net, tax = invoice_compute_line(
            quantity=quantity, unit_price=unit_price, discount_percent=discount, tax_rate=code.rate,
            currency=invoice.currency,
        )
        built.append(InvoiceLine(
            invoice=invoice, position=position, product=product, description=description[:255],
            unit=row.get("unit") or (product.unit if product else "C62"), service_start=service_start,
            service_end=service_end, quantity=quantity, unit_price=unit_price, discount_percent=discount,
            net_amount=net, tax_code=code, tax_rate=code.rate, tax_amount=tax,
            revenue_account_code=row.get("revenue_account_code") or (product.revenue_account_code if product else "4000"),
        ))
    return built


def _check_header(invoice: Invoice) -> None:
    if invoice.customer.po_required and not invoice.po_number:
        raise ValidationFailed(f"{invoice.customer.legal_name} requires a PO number on its invoices.",
                               fields={"po_number": ["required"]})
    terms = invoice.payment_terms_days
    if terms is None or not isinstance(terms, int) or not 0 <= terms <= 365:
        raise ValidationFailed("Payment terms are a whole number of days between 0 and 365.",
                               fields={"payment_terms_days": ["invalid"]})
    if invoice.service_start and invoice.service_end and invoice.service_end < invoice.service_start:
        raise ValidationFailed("The service period ends before it starts.", fields={"service_end": ["before start"]})


@transaction.atomic
def invoice_create_manual(*, data: dict[str, Any], lines: list[dict[str, Any]], by: User) -> Invoice:
    """A draft one-off invoice. `data`: legal_entity(_id), customer(_id), currency (default: the
    customer's), po_number, service_start, service_end, payment_terms_days (default: the
    customer's), notes. `lines`: product(_id) or tax_category, description, quantity, unit_price,
    discount_percent, unit, service_start, service_end, revenue_account_code."""
    require_perm(by, "billing.add_invoice", "create invoices")
    entity: LegalEntity = _obj(data, "legal_entity", LegalEntity)
    customer: Customer = _obj(data, "customer", Customer)
    if not by.has_perm("customers.access_customer", customer):
        raise PermissionDenied(f"You may not invoice {customer.legal_name}: the customer is not in your book.")
    invoice = Invoice(
        legal_entity=entity, customer=customer,
        currency=validate_currency(data.get("currency") or customer.default_currency),
        po_number=data.get("po_number", ""), service_start=data.get("service_start"),
        service_end=data.get("service_end"), notes=data.get("notes", ""),
        # 0 days ("due on receipt") is a choice, not a missing value: only an absent value defaults.
        payment_terms_days=(customer.payment_terms_days if data.get("payment_terms_days") in (None, "")
                            else data["payment_terms_days"]), created_by=by,
    )
    _check_header(invoice)
    invoice.save()
    InvoiceLine.objects.bulk_create(_build_lines(invoice, lines))
    _recompute_totals(invoice)
    invoice.save(update_fields=["net_total", "tax_total", "gross_total", "updated_at"])
    return invoice


@transaction.atomic
def invoice_update_draft(*, invoice_id: int, data: dict[str, Any], lines: list[dict[str, Any]] | None, by: User) -> Invoice:
    """Change a draft's header (po_number, notes, service dates, payment terms) and, when given,
    replace its lines. Refused for anything but a draft."""
    require_perm(by, "billing.change_invoice", "change invoices")
    invoice = lock_invoices([invoice_id]).select_related("legal_entity", "customer").first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    ensure_draft(invoice)
    for name in ("po_number", "notes", "service_start", "service_end", "payment_terms_days"):
        if name in data:
            setattr(invoice, name, data[name])
    _check_header(invoice)
    invoice.save()
    if lines is not None:
        invoice.lines.all().delete()
        InvoiceLine.objects.bulk_create(_build_lines(invoice, lines))
        _recompute_totals(invoice)
        invoice.save(update_fields=["net_total", "tax_total", "gross_total", "updated_at"])
    return invoice


# --- hold and release ---------------------------------------------------------------------------

def _hold_change(invoice_id: int, by: User, hold: bool, reason: str) -> Invoice:
    require_perm(by, "billing.hold_invoice", "put invoices on hold or release them")
    invoice = lock_invoices([invoice_id]).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    ensure_draft(invoice)
    if hold and invoice.number:
        raise InvalidTransition(f"Draft {invoice.number} already has its number and is being issued: it cannot be "
                                "held (its number would be left unused). Void it once it is issued.")
    if invoice.on_hold == hold:
        raise InvalidTransition(f"Invoice {invoice} is already {'on hold' if hold else 'released'}.")
    if not hold:
        _ensure_may_release(invoice, by)
    before = "on_hold" if invoice.on_hold else "released"
    invoice.on_hold, invoice.hold_reason = hold, reason if hold else ""
    invoice.save(update_fields=["on_hold", "hold_reason", "updated_at"])
    invoice.hold_state = "on_hold" if hold else "released"
    record_status_change(invoice, by=by, from_state=before, field="hold_state", note=reason)
    return invoice


@transaction.atomic
def invoice_hold(*, invoice_id: int, by: User, reason: str) -> Invoice:
    if not (reason or "").strip():
        raise ValidationFailed("Say why the invoice is held.", fields={"reason": ["required"]})
    return _hold_change(invoice_id, by, True, reason.strip())


def _ensure_may_release(invoice: Invoice, by: User) -> None:
    """While the invoice's customer is on credit hold (or blocked), releasing its draft means
    extending credit: only someone whose credit-release approval limit covers the invoice may."""
    customer = Customer.objects.get(pk=invoice.customer_id)
    credit_hold = credit_holds(customer_ids=[customer.pk],  # collections' holds, in the invoice's entity
                               legal_entity_id=invoice.legal_entity_id).get(customer.pk)
    if customer.status not in (Customer.Status.ON_HOLD, Customer.Status.BLOCKED) and not credit_hold:
        return
    limit = approval_limit(user=by, kind=ApprovalLimit.Kind.CREDIT_RELEASE, currency=invoice.currency,
                           legal_entity_id=invoice.legal_entity_id)
    if invoice.gross_total > limit:
        state = credit_hold if credit_hold else customer.get_status_display().lower()
        why = f" ({customer.status_reason})" if customer.status_reason and not credit_hold else ""
        yours = (f"your credit-release limit is {money_text(limit, invoice.currency)}" if limit
                 else "your role may not release invoices of customers on credit hold")
        raise LimitExceeded(
            f"{customer.name} is {state}{why}: releasing this {money_text(invoice.gross_total, invoice.currency)} "
            f"invoice extends credit, and {yours}. Ask a Finance Manager or the Controller, or take the "
            "customer off hold first.")


@transaction.atomic
def invoice_release(*, invoice_id: int, by: User, reason: str) -> Invoice:
    """Release a held draft so it can be issued. Needs a reason (kept in the history); while the
    customer is on credit hold, also a credit-release approval limit covering the invoice."""
    if not (reason or "").strip():
        raise ValidationFailed("Say why the invoice is released from hold.", fields={"reason": ["required"]})
    return _hold_change(invoice_id, by, False, reason.strip())


# --- issuing ------------------------------------------------------------------------------------

class IssuedInvoices(list):
    """The issued invoices (a list) with `.skipped`: {invoice id: reason}. From
    `invoices_number`, also `.lines`: the lines it read of the drafts it numbered, which
    `invoices_post_numbered` uses again for those that did not change in between."""

    skipped: dict[int, str]
    lines: dict[int, list[Any]]


def _skip_reason(invoice: Invoice) -> str | None:
    if invoice.status != Invoice.Status.DRAFT:
        return f"already {invoice.get_status_display().lower()}"
    if invoice.on_hold:
        return f"on hold: {invoice.hold_reason}" if invoice.hold_reason else "on hold"
    if invoice.gross_total < 0:
        return "the total is negative: correct the customer's account with a credit note"
    return None


def _posting_lines(invoice: Invoice, lines: list[Any], accounts: dict[str, int]) -> list[LineSpec]:
    """Debit AR (opening the open item), credit revenue per account and tax per tax account.
    `lines`: rows with net_amount, tax_amount, revenue_account_code and tax_code__account_code."""
    cur = invoice.currency
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    tax: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        revenue[line.revenue_account_code] += line.net_amount
        tax[line.tax_code__account_code] += line.tax_amount
    specs = [LineSpec(
        amount=quantize(invoice.gross_total, cur), role=Account.Role.AR, customer_id=invoice.customer_id,
        description=f"Invoice {invoice.number}",
        open_item=OpenItemSpec("invoice", invoice.number,
                               cast(dt.date, invoice.issue_date),  # numbered: _number_group dated it
                               invoice.due_date),
    )]
    for code, amount in sorted(revenue.items()):
        if amount:
            if code not in accounts:
                raise ValidationFailed(
                    f"Invoice {invoice.number}: {invoice.legal_entity.code} has no revenue account {code} in its chart."
                )
            specs.append(LineSpec(amount=-quantize(amount, cur), account_id=accounts[code],
                                  description=f"Invoice {invoice.number} revenue"))
    for code, amount in sorted(tax.items()):
        if amount:
            specs.append(LineSpec(amount=-quantize(amount, cur), description=f"Invoice {invoice.number} tax",
                                  **({"account_id": accounts[code]} if code in accounts else {"role": "tax_payable"})))
    return specs


ISSUED_FIELDS = [
    "due_date", "bill_to", "seller", "net_total", "tax_total", "gross_total",
    "journal_entry", "open_item", "status", "issued_by", "issued_at", "updated_at",
]
NUMBERED_FIELDS = ["number", "journal_number", "issue_date", "updated_at"]


def _check_revenue_accounts(entity: LegalEntity, group: list[Invoice], lines: dict[int, list[Any]],
                            accounts: dict[str, int]) -> None:
    """Refuse before any number is taken what posting would refuse for the chart (a revenue
    account the entity does not have), so a draft that cannot post never holds a number."""
    for invoice in group:
        invoice_lines = lines.get(invoice.pk)
        if not invoice_lines:
            raise ValidationFailed(f"Draft invoice #{invoice.pk} has no lines.")
        for line in invoice_lines:
            if line.net_amount and line.revenue_account_code not in accounts:
                raise ValidationFailed(f"Draft invoice #{invoice.pk}: {entity.code} has no revenue account "
                                       f"{line.revenue_account_code} in its chart.")


def _number_group(entity: LegalEntity, group: list[Invoice], on: dt.date) -> None:
    """One entity's block of gapless invoice numbers (and the journal numbers of the entries that
    will post them), assigned in primary-key order with one set-based UPDATE. The series rows stay
    locked only until the caller's (short) transaction commits."""
    numbers = number_series_take(legal_entity_id=entity.pk, doc_type="invoice", fiscal_year=on.year, count=len(group))
    posting = [invoice for invoice in group if invoice.gross_total != 0]
    journal = iter(journal_numbers_reserve(legal_entity_id=entity.pk, document_date=on, count=len(posting)))
    stamp = dates.now()
    for invoice, n in zip(group, numbers, strict=True):
        invoice.number, invoice.issue_date = f"{entity.invoice_prefix}-{on.year}-{n:06d}", on
        invoice.journal_number = next(journal) if invoice.gross_total != 0 else ""
        invoice.updated_at = stamp
    bulk_update_rows(group, NUMBERED_FIELDS)


def _locked_lines(invoices: list[Invoice]) -> dict[int, list[Any]]:
    lines: dict[int, list[Any]] = defaultdict(list)
    for line in (InvoiceLine.objects.filter(invoice_id__any=[i.pk for i in invoices])
                 .order_by("invoice_id", "position")
                 .values_list("invoice_id", "net_amount", "tax_amount", "revenue_account_code",
                              "tax_code__account_code", named=True)):
        lines[line.invoice_id].append(line)
    return lines


def invoices_number(*, invoice_ids: list[int], issue_date: dt.date | None = None) -> IssuedInvoices:
    """Phase 1 of issuing (inside the caller's transaction, which should be short: the series
    rows are locked until it commits): lock the drafts, skip those that cannot be issued (the
    result's `.skipped`), and give each entity's others a block of gapless invoice numbers and
    reserved journal numbers in primary-key order, with the issue date. Drafts numbered earlier
    (a chunk that failed after this step) keep their numbers: nothing is taken twice. Returns
    every numbered draft of `invoice_ids`, ready for `invoices_post_numbered`."""
    on = issue_date or dates.today()
    result = IssuedInvoices()
    result.skipped, result.lines = {}, {}
    locked = list(lock_invoices(invoice_ids))
    for missing in sorted(set(invoice_ids) - {invoice.pk for invoice in locked}):
        result.skipped[missing] = "does not exist"
    todo: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in locked:
        reason = _skip_reason(invoice)
        if reason:
            result.skipped[invoice.pk] = reason
        elif invoice.number:
            result.append(invoice)  # numbered before: posted with the same numbers
        else:
            todo[invoice.legal_entity_id].append(invoice)
    if todo:
        entities = LegalEntity.objects.in_bulk(list(todo))
        lines = _locked_lines([i for group in todo.values() for i in group])
        for entity_id in sorted(todo):  # series rows locked in entity order
            entity, group = entities[entity_id], todo[entity_id]
            accounts = dict(Account.objects.filter(legal_entity_id=entity_id, is_active=True).values_list("code", "id"))
            _check_revenue_accounts(entity, group, lines, accounts)
            _number_group(entity, group, on)
            result.extend(group)
        result.lines = lines
    result.sort(key=lambda invoice: invoice.pk)
    return result


def _post_group(entity: LegalEntity, group: list[Invoice], lines: dict[int, list[Any]], by: User | None) -> None:
    """Post one entity's numbered drafts of one issue date together and stamp them issued: one
    batch posting with the reserved journal numbers, one bulk update with history, one insert of
    status rows and of outbox events. Nothing here waits on a series lock, so chunks of one
    entity post side by side."""
    on = cast(dt.date, group[0].issue_date)  # numbered drafts: _number_group dated them with their numbers
    accounts = dict(Account.objects.filter(legal_entity_id=entity.pk, is_active=True).values_list("code", "id"))
    seller, bill_to, stamp = seller_snapshot(entity), {}, dates.now()
    postings: list[tuple[Invoice, EntrySpec]] = []
    relate(group, "issued_by", [by] * len(group))
    for invoice in group:
        invoice_lines = lines.get(invoice.pk)
        if not invoice_lines:
            raise ValidationFailed(f"Draft invoice #{invoice.pk} has no lines.")
        _recompute_totals(invoice, invoice_lines)  # totals always equal the sum of the rounded lines
        invoice.due_date = on + dt.timedelta(days=invoice.payment_terms_days)
        if invoice.customer_id not in bill_to:
            bill_to[invoice.customer_id] = bill_to_snapshot(invoice.customer)
        invoice.bill_to, invoice.seller = bill_to[invoice.customer_id], seller
        invoice.status, invoice.issued_at, invoice.updated_at = Invoice.Status.ISSUED, stamp, stamp
        if invoice.gross_total != 0:
            if not invoice.journal_number:  # numbered before journal numbers were reserved with it
                invoice.journal_number = journal_numbers_reserve(legal_entity_id=entity.pk, document_date=on, count=1)[0]
            postings.append((invoice, EntrySpec(
                lines=_posting_lines(invoice, invoice_lines, accounts), currency=invoice.currency,
                memo=f"Invoice {invoice.number} {invoice.customer.legal_name}", source=invoice,
                source_reference=invoice.number,
            )))
    entries = journal_post_batch(legal_entity_id=entity.pk, kind="invoice", document_date=on,
                                 entries=[spec for _, spec in postings], by=by,
                                 reserved_numbers=[invoice.journal_number for invoice, _ in postings])
    relate([invoice for invoice, _ in postings], "journal_entry", entries)
    relate([invoice for invoice, _ in postings], "open_item", [entry.opened_items[0] for entry in entries])
    bulk_update_rows(group, [*ISSUED_FIELDS, "journal_number"])
    history_insert(group, created=False, by=by, reason="issued", at=stamp, saved=True)  # just updated in full
    record_status_changes(group, by=by, from_state=Invoice.Status.DRAFT)
    outbox_emit_many(topic="invoice.issued", subject_type="invoice", events=[(invoice.pk, {
        "id": invoice.pk, "number": invoice.number, "customer_id": invoice.customer_id, "currency": invoice.currency,
        "gross_total": str(invoice.gross_total), "issue_date": on.isoformat(),
        "due_date": cast(dt.date, invoice.due_date).isoformat(),  # set for every invoice of the group above
    }) for invoice in group])


def invoices_post_numbered(*, invoices: list[Invoice], by: User | None) -> list[Invoice]:
    """Phase 2 of issuing (inside the caller's transaction): post the numbered drafts returned by
    `invoices_number`, locked again, and stamp them issued. Drafts issued meanwhile (a redelivered
    task) are left alone. Returns the invoices this call issued.

    The rows are locked again, but read again only where they changed since `invoices_number`
    read them (their status, number, hold or `updated_at` differ): the month-end run posts
    thousands of invoices, and building each a second time was a good part of its cost."""
    given = {invoice.pk: invoice for invoice in invoices}
    stale, present = [], set()
    for pk, status, number, on_hold, updated_at in (
            Invoice.objects.select_for_update(of=("self",)).filter(pk__any=sorted(given)).order_by("pk")
            .values_list("pk", "status", "number", "on_hold", "updated_at")):
        invoice = given[pk]
        present.add(pk)
        if (status, number, on_hold, updated_at) != (invoice.status, invoice.number, invoice.on_hold,
                                                     invoice.updated_at):
            stale.append(pk)
    if stale:  # changed meanwhile (a redelivered task issued them): read as they are now
        given.update({invoice.pk: invoice for invoice in Invoice.objects.filter(pk__in=stale)})
    locked = [given[pk] for pk in sorted(present)
              if given[pk].status == Invoice.Status.DRAFT and given[pk].number and not given[pk].on_hold]
    if not locked:
        return []
    entities = LegalEntity.objects.in_bulk({invoice.legal_entity_id for invoice in locked})
    customers = Customer.objects.in_bulk({invoice.customer_id for invoice in locked})
    # The lines `invoices_number` read, for the drafts unchanged since (their lines are replaced
    # only with the draft saved, which moves `updated_at`); the others' lines read now.
    known, changed = getattr(invoices, "lines", {}), set(stale)
    lines = {invoice.pk: known[invoice.pk] for invoice in locked if invoice.pk in known and invoice.pk not in changed}
    lines.update(_locked_lines([invoice for invoice in locked if invoice.pk not in lines]))
    groups: dict[tuple[int, dt.date], list[Invoice]] = defaultdict(list)
    relate(locked, "legal_entity", [entities[invoice.legal_entity_id] for invoice in locked])
    relate(locked, "customer", [customers[invoice.customer_id] for invoice in locked])
    for invoice in locked:
        # numbered drafts: _number_group dated them with their numbers
        groups[(invoice.legal_entity_id, cast(dt.date, invoice.issue_date))].append(invoice)
    for entity_id, on in sorted(groups):
        _post_group(entities[entity_id], groups[(entity_id, on)], lines, by)
    return locked


DOCUMENTS_CHUNK = 100


def documents_queue(invoice_ids: list[int]) -> None:
    """One message per 100 issued invoices (not one per invoice, nor one per issue chunk of
    1,000): every documents worker gets a share of a chunk, and each message's e-mails share
    one mail connection."""
    from billing.tasks import invoices_publish_task

    for i in range(0, len(invoice_ids), DOCUMENTS_CHUNK):
        invoices_publish_task.delay(invoice_ids=invoice_ids[i:i + DOCUMENTS_CHUNK])


def queue_documents_on_commit(invoices: list[Invoice]) -> None:
    ids = [invoice.pk for invoice in invoices]
    if ids:
        transaction.on_commit(lambda: documents_queue(ids))


@transaction.atomic
def invoices_issue(
    *, invoice_ids: list[int], by: User | None, issue_date: dt.date | None = None, queue_documents: bool = True,
) -> IssuedInvoices:
    """Issue drafts as one all-or-nothing chunk (rules in the module docstring): number them
    (`invoices_number`) and post them (`invoices_post_numbered`) in one transaction. `by=None` is
    the system billing run; a person needs billing.issue_invoice. Returns the issued invoices;
    the result's `.skipped` maps skipped ids to the reason. After commit, each issued invoice's
    PDF is rendered and delivered by a task (unless `queue_documents=False`). The month-end run
    does the two phases in two transactions instead (billing/services/run.py)."""
    if by is not None:
        require_perm(by, "billing.issue_invoice", "issue invoices")
    numbered = invoices_number(invoice_ids=invoice_ids, issue_date=issue_date)
    result = IssuedInvoices(invoices_post_numbered(invoices=numbered, by=by))
    result.skipped = numbered.skipped
    if queue_documents:
        queue_documents_on_commit(result)
    return result


@transaction.atomic(durable=True)
def invoice_issue(*, invoice_id: int, by: User, issue_date: dt.date | None = None) -> Invoice:
    """Issue one draft (the detail page's button): like `invoices_issue`, but a draft that
    cannot be issued is refused with the reason instead of skipped."""
    issued = invoices_issue(invoice_ids=[invoice_id], by=by, issue_date=issue_date)
    if not issued:
        reason = issued.skipped.get(invoice_id, "cannot be issued")
        raise InvalidTransition(f"Invoice #{invoice_id} was not issued: {reason}.")
    return issued[0]


__all__ = [
    "IssuedInvoices", "ensure_draft", "invoice_compute_line", "invoice_create_manual", "line_tax",
    "invoice_hold", "invoice_issue", "invoice_release", "invoice_update_draft", "invoices_issue",
    "lock_invoices", "require_perm",
    "invoices_number", "invoices_post_numbered", "queue_documents_on_commit",
]
