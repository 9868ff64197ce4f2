"""Credit notes: request, approve or reject, issue (number, reversal posting, invoice balance).

Decisions:
- A credit note is requested against an issued, partially paid or paid invoice; a draft or void
  invoice is refused (a void invoice is already fully reversed: nothing is left to credit).
- Three shapes: the whole invoice (neither `lines` nor `amount`: every line's uncredited
  remainder, tax exactly as remaining on the line), some lines (`{"invoice_line_id", "quantity"}`
  or `{"invoice_line_id", "net_amount"}`), or an `amount`. The amount is a NET amount, spread over
  the lines pro rata by their uncredited net, rounded per line, the rounding difference on the
  largest line; tax is added per line at the original line's rate and tax code.
- What remains uncredited = gross - amount_credited - gross of other requested/approved notes,
  checked for the whole invoice and per line (net and gross); the invoice row is locked while
  checking so two concurrent requests cannot both take the same remainder.
- Issuing debits revenue per line account and tax payable per tax code, and credits AR: first
  settling the invoice's open item by min(credit, its open amount), any excess (the invoice is
  already paid) opening a NEGATIVE open item "credit_note" for the customer (a customer credit).
  `Invoice.amount_credited` grows with F() under the invoice lock; the invoice becomes "paid"
  when nothing remains due.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet, Sum

from billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from billing.snapshots import bill_to_snapshot, seller_snapshot
from ledger.models import Account, OpenItem
from ledger.services import LineSpec, OpenItemSpec, journal_post, number_series_take
from otc import dates
from otc.errors import (
    InvalidTransition,
    LimitExceeded,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.history import history_stamp
from otc.models import User
from otc.money import (
    ZERO,
    check_plausible,
    check_plausible_quantity,
    format_amount,
    money_text,
    quantize,
    to_decimal,
)
from otc.registry import registry
from otc.services import approval_limit, ensure_transition, outbox_emit, record_status_change, text_within

from .invoices import invoice_compute_line, lock_invoices
from .payments import emit_paid

HUNDRED = Decimal(100)
CREDITABLE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID)
PENDING = (CreditNote.Status.REQUESTED, CreditNote.Status.APPROVED)
TAKEN = (*PENDING, CreditNote.Status.ISSUED)
DECISION_NOTE_LIMIT = 5000  # characters of an approval or rejection note (the form's limit too)


def lock_credit_notes(ids: list[int]) -> QuerySet[CreditNote]:
    return CreditNote.objects.select_for_update(of=("self",)).filter(pk__in=sorted(set(ids))).order_by("pk")


def _require(by: User | None, perm: str, what: str) -> None:
    if by is None or not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


def _locked_note(credit_note_id: int) -> CreditNote:
    note = lock_credit_notes([credit_note_id]).first()
    if note is None:
        raise ValidationFailed(f"Credit note {credit_note_id} does not exist.")
    return note


# --- request ------------------------------------------------------------------------------------

def _remaining_by_line(invoice: Invoice, lines: list[InvoiceLine]) -> dict[int, tuple[Decimal, Decimal]]:
    """{invoice line id: (net, tax) not yet taken by requested, approved or issued notes}."""
    taken = (CreditNoteLine.objects.filter(invoice_line__invoice=invoice, credit_note__status__in=TAKEN)
             .values("invoice_line_id").annotate(net=Sum("net_amount"), tax=Sum("tax_amount")).order_by())
    used = {row["invoice_line_id"]: (row["net"] or ZERO, row["tax"] or ZERO) for row in taken}
    return {line.pk: (line.net_amount - used.get(line.pk, (ZERO, ZERO))[0],
                      line.tax_amount - used.get(line.pk, (ZERO, ZERO))[1]) for line in lines}


def _tax(net: Decimal, line: InvoiceLine, currency: str) -> Decimal:
    return quantize(net * line.tax_rate / HUNDRED, currency)


def _spread(amount: Decimal, lines: list[InvoiceLine], remaining: dict[int, tuple[Decimal, Decimal]],
            currency: str) -> list[tuple[InvoiceLine, Decimal, Decimal]]:
    weights = [(line, remaining[line.pk][0]) for line in lines if remaining[line.pk][0] > 0]
    base = sum((w for _, w in weights), ZERO)
    if base <= 0:
        raise ValidationFailed("Nothing remains to be credited on this invoice.", fields={"amount": ["exceeds"]})
    nets = [quantize(amount * w / base, currency) for _, w in weights]
    largest = max(range(len(weights)), key=lambda i: (weights[i][1], -i))
    nets[largest] += amount - sum(nets, ZERO)
    return [(line, net, _tax(net, line, currency)) for (line, _), net in zip(weights, nets, strict=True) if net]


def credit_note_gross_for_amount(*, invoice: Invoice, amount: Decimal) -> Decimal:
    """The gross a credit note requested now for this NET `amount` would carry: the amount spread
    over the lines' uncredited net, each share taxed at its line's rate. Lets a caller that knows
    a gross (a dispute) find the net amount that credits exactly that gross."""
    lines = list(invoice.lines.all())
    spread = _spread(to_decimal(amount), lines, _remaining_by_line(invoice, lines), invoice.currency)
    return sum((net + tax for _, net, tax in spread), ZERO)


def _requested_lines(invoice: Invoice, lines: list[dict[str, Any]] | None, amount: Decimal | None,
                     all_lines: list[InvoiceLine], remaining: dict[int, tuple[Decimal, Decimal]]
                     ) -> list[tuple[InvoiceLine, Decimal, Decimal, Decimal]]:
    """[(invoice line, quantity, net, tax)]. Errors name the invoice line by its position on the
    invoice (as `_check_remaining` does), or the request row when it names no line of the invoice."""
    cur = invoice.currency
    if lines and amount is not None:
        raise ValidationFailed("Credit either some lines or an amount, not both.")
    if amount is not None:
        amount = check_plausible(to_decimal(amount), cur, field="amount")
        if amount <= 0 or quantize(amount, cur) != amount:
            raise ValidationFailed(f"The amount must be positive with at most the decimals of {cur}.",
                                   fields={"amount": ["invalid"]})
        return [(line, Decimal(1), net, tax) for line, net, tax in _spread(amount, all_lines, remaining, cur)]
    if not lines:
        return [(line, line.quantity, *remaining[line.pk]) for line in all_lines if any(remaining[line.pk])]
    by_id: dict[Any, InvoiceLine] = {line.pk: line for line in all_lines}  # the request names any id
    result = []
    for position, row in enumerate(lines, start=1):
        line = by_id.get(row.get("invoice_line_id"))
        if line is None:
            raise ValidationFailed(f"Request row {position}: that line is not on invoice {invoice.number}.",
                                   fields={"lines": [position]})
        if row.get("quantity") is not None:
            quantity = check_plausible_quantity(to_decimal(row["quantity"]), line.unit or None, field="quantity")
            if not 0 < quantity <= line.quantity:
                raise ValidationFailed(f"Line {line.position}: credit between 0 and {line.quantity} units.",
                                       fields={"lines": [line.position]})
            if quantity == line.quantity:
                net, tax = line.net_amount, line.tax_amount
            else:
                net, tax = invoice_compute_line(quantity=quantity, unit_price=line.unit_price,
                                                discount_percent=line.discount_percent, tax_rate=line.tax_rate,
                                                currency=cur)
        elif row.get("net_amount") is not None:
            net, quantity = check_plausible(to_decimal(row["net_amount"]), cur, field="net_amount"), Decimal(1)
            if net <= 0 or quantize(net, cur) != net:
                raise ValidationFailed(f"Line {line.position}: the amount must be positive with at most the decimals of {cur}.",
                                       fields={"lines": [line.position]})
            tax = line.tax_amount if net == line.net_amount else _tax(net, line, cur)
        else:
            raise ValidationFailed(f"Line {line.position}: give a quantity or a net amount.", fields={"lines": [line.position]})
        result.append((line, quantity, net, tax))
    return result


def _check_remaining(invoice: Invoice, wanted: list[tuple[InvoiceLine, Decimal, Decimal, Decimal]],
                     remaining: dict[int, tuple[Decimal, Decimal]], gross: Decimal) -> None:
    cur = invoice.currency
    per_line: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line, _, net, tax in wanted:
        per_line[line.pk][0] += net
        per_line[line.pk][1] += tax
    for line, *_ in wanted:
        net, tax = per_line[line.pk]
        left_net, left_tax = remaining[line.pk]
        if net > left_net or net + tax > left_net + left_tax:
            raise ValidationFailed(
                f"Line {line.position} ({line.description}): {money_text(net + tax, cur)} exceeds the "
                f"{money_text(left_net + left_tax, cur)} that remains uncredited on it.", fields={"lines": [line.position]})
    pending = (CreditNote.objects.filter(invoice=invoice, status__in=PENDING)
               .aggregate(total=Sum("gross_total"))["total"] or ZERO)
    left = invoice.gross_total - invoice.amount_credited - pending
    if gross > left:
        raise ValidationFailed(
            f"{money_text(gross, cur)} exceeds the {money_text(left, cur)} that remains uncredited on invoice {invoice.number}.",
            fields={"amount": ["exceeds"]})


@transaction.atomic
def credit_note_request(
    *, invoice_id: int, by: User, reason: str, explanation: str,
    lines: list[dict[str, Any]] | None = None, amount: Decimal | None = None,
) -> CreditNote:
    """Request a credit note against an issued invoice: the whole invoice, some lines or an
    amount (rules in the module docstring). Status "requested"."""
    _require(by, "billing.request_creditnote", "request credit notes")
    if reason not in CreditNote.Reason.values:
        raise ValidationFailed("Choose a reason code.", fields={"reason": ["invalid"]})
    if not (explanation or "").strip():
        raise ValidationFailed("Explain why the customer is credited.", fields={"explanation": ["required"]})
    invoice = lock_invoices([invoice_id]).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status not in CREDITABLE:
        raise InvalidTransition(f"Invoice {invoice} is {invoice.get_status_display().lower()}: only issued invoices "
                                "can be credited.")
    all_lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    remaining = _remaining_by_line(invoice, all_lines)
    wanted = _requested_lines(invoice, lines, amount, all_lines, remaining)
    net = sum((w[2] for w in wanted), ZERO)
    tax = sum((w[3] for w in wanted), ZERO)
    if not wanted or net + tax <= 0:
        raise ValidationFailed(f"Nothing remains to be credited on invoice {invoice.number}.")
    _check_remaining(invoice, wanted, remaining, net + tax)
    note = CreditNote.objects.create(
        legal_entity_id=invoice.legal_entity_id, customer_id=invoice.customer_id, invoice=invoice, reason=reason,
        explanation=explanation.strip(), currency=invoice.currency, net_total=net, tax_total=tax,
        gross_total=net + tax, requested_by=by,
    )
    CreditNoteLine.objects.bulk_create([
        CreditNoteLine(credit_note=note, position=i, invoice_line=line, description=line.description,
                       quantity=quantity, net_amount=n, tax_code_id=line.tax_code_id, tax_rate=line.tax_rate,
                       tax_amount=t, revenue_account_code=line.revenue_account_code)
        for i, (line, quantity, n, t) in enumerate(wanted, start=1)
    ])
    record_status_change(note, by=by, from_state="")
    note_id = note.pk
    transaction.on_commit(lambda: _queue_approver_notice(note_id))
    outbox_emit(topic="credit_note.requested", subject_type="credit_note", subject_id=note.pk, payload={
        "id": note.pk, "invoice_id": invoice.pk, "invoice_number": invoice.number, "reason": reason,
        "currency": note.currency, "gross_total": str(note.gross_total),
    })
    return note


# --- approve / reject -----------------------------------------------------------------------------

def _decide(credit_note_id: int, by: User, to: str, note_text: str) -> CreditNote:
    _require(by, "billing.approve_creditnote", "approve or reject credit notes")
    note = _locked_note(credit_note_id)
    ensure_transition(note, to=to)
    if note.requested_by_id == by.id:
        raise SegregationOfDuties("You requested this credit note; another person must decide on it.")
    if to == CreditNote.Status.APPROVED:
        limit = approval_limit(user=by, kind="credit_note", currency=note.currency,
                               legal_entity_id=note.legal_entity_id)
        if note.gross_total > limit:
            raise LimitExceeded(f"{money_text(note.gross_total, note.currency)} exceeds your approval limit of "
                                f"{money_text(limit, note.currency)}.")
    before = note.status
    note.status, note.decided_by, note.decided_at, note.decision_note = to, by, dates.now(), note_text
    note.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    record_status_change(note, by=by, from_state=before, note=note_text)
    outbox_emit(topic=f"credit_note.{to}", subject_type="credit_note", subject_id=note.pk, payload={
        "id": note.pk, "invoice_id": note.invoice_id, "status": to, "gross_total": str(note.gross_total),
        "currency": note.currency,
    })
    return note


@transaction.atomic(durable=True)
def credit_note_approve(*, credit_note_id: int, by: User, note: str = "") -> CreditNote:
    """Approve a requested credit note: not its requester, and within the approver's limit."""
    return _decide(credit_note_id, by, CreditNote.Status.APPROVED, text_within(note, limit=DECISION_NOTE_LIMIT))


@transaction.atomic(durable=True)
def credit_note_reject(*, credit_note_id: int, by: User, note: str) -> CreditNote:
    """Reject a requested credit note; the reason is required."""
    note = text_within(note, limit=DECISION_NOTE_LIMIT)
    if not note:
        raise ValidationFailed("Say why the credit note is rejected.", fields={"note": ["required"]})
    return _decide(credit_note_id, by, CreditNote.Status.REJECTED, note)


# --- issue ---------------------------------------------------------------------------------------

def _posting_lines(note: CreditNote, invoice: Invoice, lines: list[CreditNoteLine], accounts: dict[str, int],
                   number: str, on: dt.date) -> list[LineSpec]:
    cur = note.currency
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    tax: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        revenue[line.revenue_account_code] += line.net_amount
        tax[line.tax_code.account_code] += line.tax_amount
    specs = []
    for code, amount in sorted(revenue.items()):
        if amount:
            if code not in accounts:
                raise ValidationFailed(f"Credit note {number}: the entity has no revenue account {code} in its chart.")
            specs.append(LineSpec(amount=quantize(amount, cur), account_id=accounts[code],
                                  description=f"Credit note {number} revenue"))
    for code, amount in sorted(tax.items()):
        if amount:
            specs.append(LineSpec(amount=quantize(amount, cur), description=f"Credit note {number} tax",
                                  **({"account_id": accounts[code]} if code in accounts else {"role": "tax_payable"})))
    open_amount = ZERO
    if invoice.open_item_id:
        open_amount = OpenItem.objects.select_for_update(of=("self",)).get(pk=invoice.open_item_id).open_amount
    settle = min(note.gross_total, max(open_amount, ZERO))
    if settle:
        specs.append(LineSpec(amount=-settle, role=Account.Role.AR, customer_id=note.customer_id,
                              settle_item_id=invoice.open_item_id, description=f"Credit note {number} on {invoice.number}"))
    excess = note.gross_total - settle
    if excess:
        specs.append(LineSpec(amount=-excess, role=Account.Role.AR, customer_id=note.customer_id,
                              description=f"Credit note {number}: customer credit",
                              open_item=OpenItemSpec("credit_note", number, on, on)))
    return specs


@transaction.atomic(durable=True)
def credit_note_issue(*, credit_note_id: int, by: User, issue_date: dt.date | None = None) -> CreditNote:
    """Issue an approved credit note: gapless number, reversal posting, invoice balance (rules in
    the module docstring). A credit note on an invoice voided since is refused. After commit its
    PDF is rendered and it is delivered to the customer by a task (documents queue)."""
    _require(by, "billing.issue_creditnote", "issue credit notes")
    note = _locked_note(credit_note_id)
    ensure_transition(note, to=CreditNote.Status.ISSUED)
    invoice = lock_invoices([note.invoice_id]).select_related("legal_entity").get()
    if invoice.status not in CREDITABLE:
        raise InvalidTransition(f"Invoice {invoice} is {invoice.get_status_display().lower()}; "
                                "the credit note cannot be issued. Reject it instead.")
    return _issue(note, invoice, by=by, on=issue_date or dates.today())


def _issue(note: CreditNote, invoice: Invoice, *, by: User, on: dt.date, mark_paid: bool = True) -> CreditNote:
    """Number, post and stamp a locked, approved note on its locked invoice (inside the caller's
    transaction); `mark_paid=False` when the caller (a void) sets the invoice's status itself."""
    entity = invoice.legal_entity
    n = number_series_take(legal_entity_id=entity.pk, doc_type="credit_note", fiscal_year=on.year)[0]
    number = f"{entity.credit_note_prefix}-{on.year}-{n:06d}"
    lines = list(note.lines.select_related("tax_code").order_by("position"))
    accounts = dict(Account.objects.filter(legal_entity_id=entity.pk, is_active=True).values_list("code", "id"))
    entry = journal_post(
        legal_entity_id=entity.pk, kind="credit_note", document_date=on, currency=note.currency, by=by,
        lines=_posting_lines(note, invoice, lines, accounts, number, on),
        memo=f"Credit note {number} on invoice {invoice.number}", source=note, source_reference=number,
    )
    stamp = dates.now()
    Invoice.objects.filter(pk=invoice.pk).update(amount_credited=F("amount_credited") + note.gross_total,
                                                 updated_at=stamp)
    invoice.refresh_from_db(fields=["amount_credited", "amount_paid", "gross_total", "status"])
    if mark_paid and invoice.balance_due <= 0 and invoice.status != Invoice.Status.PAID:
        before = invoice.status
        invoice.status = Invoice.Status.PAID
        history_stamp(invoice, by=by, at=stamp)
        invoice.save(update_fields=["status", "updated_at"])
        record_status_change(invoice, by=by, from_state=before, note=f"Credit note {number}")
        emit_paid([invoice])
    note.number, note.issue_date, note.journal_entry = number, on, entry
    note.status, note.issued_by, note.issued_at = CreditNote.Status.ISSUED, by, stamp
    history_stamp(note, by=by, at=stamp)
    note.save(update_fields=["number", "issue_date", "journal_entry", "status", "issued_by", "issued_at"])
    record_status_change(note, by=by, from_state=CreditNote.Status.APPROVED)
    outbox_emit(topic="credit_note.issued", subject_type="credit_note", subject_id=note.pk, payload={
        "id": note.pk, "number": number, "invoice_id": invoice.pk, "invoice_number": invoice.number,
        "customer_id": note.customer_id, "currency": note.currency, "gross_total": str(note.gross_total),
        "issue_date": on.isoformat(),
    })
    registry.call_hooks("credit_note_issued", credit_note=note, by=by)  # collections closes the disputes it resolves
    note_id = note.pk
    transaction.on_commit(lambda: _queue_publish(note_id))
    return note


def _queue_approver_notice(credit_note_id: int) -> None:
    from billing.tasks import notify_credit_note_awaiting_approval

    notify_credit_note_awaiting_approval.delay(credit_note_id=credit_note_id)


def _queue_publish(credit_note_id: int) -> None:
    from billing.tasks import credit_note_publish_task

    credit_note_publish_task.delay(credit_note_id=credit_note_id)


def credit_note_cancel_invoice(*, invoice: Invoice, by: User, reason: str, on: dt.date) -> CreditNote:
    """The credit note that cancels a delivered invoice being voided: the whole invoice, every
    line's full amount at its rate, reason "cancellation", requested, approved and issued by the
    person voiding (their void permission is the approval; each step has its status row), inside
    the void's transaction. `invoice` is locked by the caller; it must have nothing credited or
    pending."""
    if CreditNote.objects.filter(invoice=invoice, status__in=PENDING).exists():
        raise InvalidTransition(f"Invoice {invoice.number} has credit note requests pending: approve and issue or "
                                "reject them before voiding it.")
    all_lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    remaining = _remaining_by_line(invoice, all_lines)
    wanted = _requested_lines(invoice, None, None, all_lines, remaining)
    net = sum((w[2] for w in wanted), ZERO)
    tax = sum((w[3] for w in wanted), ZERO)
    stamp = dates.now()
    note = CreditNote(
        legal_entity_id=invoice.legal_entity_id, customer_id=invoice.customer_id, invoice=invoice,
        reason=CreditNote.Reason.CANCELLATION, explanation=f"Cancels invoice {invoice.number}: {reason}",
        currency=invoice.currency, net_total=net, tax_total=tax, gross_total=net + tax, requested_by=by,
        status=CreditNote.Status.APPROVED, decided_by=by, decided_at=stamp,
        decision_note=f"Void of invoice {invoice.number} (approved by the void)",
    )
    history_stamp(note, by=by, at=stamp)
    note.save()
    CreditNoteLine.objects.bulk_create([
        CreditNoteLine(credit_note=note, position=i, invoice_line=line, description=line.description,
                       quantity=quantity, net_amount=n, tax_code_id=line.tax_code_id, tax_rate=line.tax_rate,
                       tax_amount=t, revenue_account_code=line.revenue_account_code)
        for i, (line, quantity, n, t) in enumerate(wanted, start=1)
    ])
    note.status = CreditNote.Status.REQUESTED  # the status rows walk the workflow: requested, approved, issued
    record_status_change(note, by=by, from_state="")
    note.status = CreditNote.Status.APPROVED
    record_status_change(note, by=by, from_state=CreditNote.Status.REQUESTED, note=note.decision_note)
    return _issue(note, invoice, by=by, on=on, mark_paid=False)


# --- PDF -----------------------------------------------------------------------------------------

def credit_note_pdf_context(note: CreditNote) -> dict[str, Any]:
    """At the invoice's standard (art. 226 of the VAT Directive), from the credited invoice's
    issue-time snapshots (seller, bill_to): both parties with full addresses and countries, tax
    ids, the credited invoice, per line the quantity, unit price, discount, service period and
    rate, the taxable amount and tax per rate, and the invoice's legal notes (the reverse-charge
    or exemption wording) for the tax codes credited."""
    from billing.pdf import UNIT_LABELS, price_text, tax_summary_rows
    from billing.tax import invoice_legal_notes
    from billing.wording import postal_address, tax_label

    cur, invoice = note.currency, note.invoice
    seller = invoice.seller or seller_snapshot(invoice.legal_entity)
    bill_to = invoice.bill_to or bill_to_snapshot(invoice.customer)
    lines = list(note.lines.select_related("tax_code", "invoice_line").order_by("position"))
    rows = []
    for ln in lines:
        source = ln.invoice_line
        unit_price, discount = ln.net_amount / ln.quantity if ln.quantity else ln.net_amount, ZERO
        if source is not None:
            # The invoice line's price and discount when the credited quantity reproduces the net.
            exact = quantize(ln.quantity * source.unit_price * (HUNDRED - source.discount_percent) / HUNDRED, cur)
            if exact == ln.net_amount:
                unit_price, discount = source.unit_price, source.discount_percent
        rows.append({
            "line": ln, "quantity": f"{ln.quantity.normalize():f}",
            "unit": UNIT_LABELS.get(source.unit, source.unit) if source is not None else "",
            "unit_price": price_text(unit_price.quantize(Decimal("0.0001")), cur),
            "discount": f"{discount.normalize():f}%" if discount else "",
            "service_start": source.service_start if source is not None else None,
            "service_end": source.service_end if source is not None else None,
            "net": format_amount(ln.net_amount, cur), "tax_rate": f"{ln.tax_rate.normalize():f}%",
            "tax": format_amount(ln.tax_amount, cur),
        })
    return {
        "note": note, "invoice": invoice, "currency": cur, "seller": seller, "bill_to": bill_to,
        "seller_address": postal_address(seller), "bill_to_address": postal_address(bill_to),
        "tax_label": tax_label(seller.get("country", "")), "customer_tax_label": tax_label(bill_to.get("country", "")),
        "reason": note.get_reason_display(), "lines": rows, "tax_summary": tax_summary_rows(lines, cur),
        "legal_notes": invoice_legal_notes(
            tax_codes=[ln.tax_code for ln in lines], customer_exempt=bool(bill_to.get("tax_exempt")),
            exemption_reference=bill_to.get("tax_exemption_reference", "")),
        "net_total": format_amount(note.net_total, cur), "tax_total": format_amount(note.tax_total, cur),
        "gross_total": format_amount(note.gross_total, cur),
    }


def credit_note_render_pdf(note: CreditNote) -> bytes:
    """The credit note as PDF bytes (A4), drawn with ReportLab like the invoices (decision 0021)."""
    from billing.invoice_pdf import render_credit_note

    return render_credit_note(credit_note_pdf_context(note), title=f"Credit note {note.number}")


def credit_note_render_pdf_weasyprint(note: CreditNote) -> bytes:
    """The reference rendering (billing/pdf/credit_note.html by WeasyPrint), used by no document
    path: the parity test and the bench compare against it (decision 0021)."""
    from billing.pdf import renderer  # the worker's shared templates, stylesheet and fonts

    return renderer().render("billing/pdf/credit_note.html", credit_note_pdf_context(note))


def credit_note_store_pdf(*, credit_note_id: int) -> CreditNote:
    """Render and store an issued credit note's PDF and SHA-256 once (idempotent: a stored PDF is
    never re-rendered). Run by the documents task after the issue commits, or on demand by a
    download that finds it missing. Rendered before the row is locked; locked only to store (the
    first worker to store wins, as in `billing.pdf.invoice_store_pdf`)."""
    from billing.pdf import store_document_file

    note = CreditNote.objects.filter(pk=credit_note_id).first()
    if note is None:
        raise ValidationFailed(f"Credit note {credit_note_id} does not exist.")
    if note.pdf_sha256:
        return note
    if note.status != CreditNote.Status.ISSUED:
        raise InvalidTransition(f"{note} is not issued; only issued credit notes have a PDF.")
    content = credit_note_render_pdf(note)  # no lock held while rendering
    with transaction.atomic():
        note = _locked_note(credit_note_id)
        if note.pdf_sha256:
            return note
        store_document_file(note, file_field="pdf", sha_field="pdf_sha256", name=f"{note.number}.pdf", content=content)
    return note


def credit_note_pdf_download(*, credit_note_id: int) -> tuple[bytes, str]:
    """(bytes, file name) of an issued credit note's PDF: rendered and stored first when missing,
    always checked against the stored SHA-256 (billing.integrity.DocumentIntegrityError if not)."""
    from billing.integrity import verified_pdf

    note = CreditNote.objects.get(pk=credit_note_id)
    if note.status != CreditNote.Status.ISSUED:
        raise InvalidTransition(f"{note} is not issued; only issued credit notes have a PDF.")
    if not note.pdf_sha256:
        note = credit_note_store_pdf(credit_note_id=note.pk)
    return verified_pdf(note), f"{note.number}.pdf"


__all__ = ["credit_note_approve", "credit_note_cancel_invoice", "credit_note_issue", "credit_note_pdf_download", "credit_note_pdf_context", "credit_note_reject",
           "credit_note_render_pdf", "credit_note_request", "credit_note_store_pdf", "lock_credit_notes"]
