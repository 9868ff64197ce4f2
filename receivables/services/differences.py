"""Bank fees and small differences written off when a short payment is accepted (issue 16).

A payer's bank often takes a fee, so 1,190.00 arrives as 1,175.00. Within the matching policy's
short-payment tolerance (the smaller of 2% and 50.00) a person accepting the payment may write the
difference off in the same step instead of leaving it open: debit the configured differences
account (settings.RECEIVABLES_DIFFERENCE_ACCOUNT, an account code; else the entity's rounding
differences account), credit AR settling the invoice's open item. The amount is within the
person's write-off approval limit (otc ApprovalLimit, kind write_off), and the invoice is settled
through billing like a payment."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction

from billing.models import Invoice
from billing.services import invoices_record_payments
from ledger.models import Account, JournalEntry
from ledger.services import LineSpec, journal_post
from otc import dates
from otc.errors import LimitExceeded, ValidationFailed
from otc.models import User
from otc.money import money_text, quantize
from otc.services import approval_limit
from receivables.matching import MatchPolicy

from .receipts import lock_receipt, require_perm


def difference_tolerance(gross: Decimal, currency: str, policy: MatchPolicy | None = None) -> Decimal:
    policy = policy or MatchPolicy()
    return quantize(min(gross * policy.short_pay_tolerance_percent / Decimal(100), policy.short_pay_tolerance_amount),
                    currency)


def _account(legal_entity_id: int) -> Account:
    code = getattr(settings, "RECEIVABLES_DIFFERENCE_ACCOUNT", "")
    accounts = Account.objects.filter(legal_entity_id=legal_entity_id, is_active=True)
    found = accounts.filter(code=code).first() if code else accounts.filter(role=Account.Role.ROUNDING).first()
    if found is None:
        raise ValidationFailed("No account is configured for payment differences "
                               "(RECEIVABLES_DIFFERENCE_ACCOUNT, or a rounding differences account).")
    return found


@transaction.atomic
def difference_write_off(*, receipt_id: int, invoice_id: int, amount: Decimal, by: User) -> JournalEntry:
    """Write off what a short payment left open on `invoice_id` (exactly that, within tolerance and
    the person's limit), referring to the receipt that paid the rest."""
    require_perm(by, "receivables.apply_receipt", "write off payment differences")
    receipt = lock_receipt(receipt_id)
    invoice = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()
    if invoice is None or not receipt.applications.filter(invoice_id=invoice_id, reversed_at__isnull=True).exists():
        raise ValidationFailed(f"{receipt.number} has paid nothing on that invoice: only a difference it left is "
                               "written off.")
    amount = quantize(Decimal(amount), invoice.currency)
    tolerance = difference_tolerance(invoice.gross_total, invoice.currency)
    if amount <= 0 or amount != invoice.balance_due:
        raise ValidationFailed(f"{invoice.number} has {money_text(invoice.balance_due, invoice.currency)} open; "
                               f"only exactly that is written off.")
    if amount > tolerance:
        raise ValidationFailed(f"{money_text(amount, invoice.currency)} is more than the tolerance of "
                               f"{money_text(tolerance, invoice.currency)} for {invoice.number}: leave it open.")
    limit = approval_limit(user=by, kind="write_off", currency=invoice.currency,
                           legal_entity_id=invoice.legal_entity_id)
    if amount > limit:
        raise LimitExceeded(f"Writing off {money_text(amount, invoice.currency)} exceeds your write-off limit of "
                            f"{money_text(limit, invoice.currency)}.")
    account = _account(invoice.legal_entity_id)
    invoices_record_payments(changes={invoice.pk: amount}, by=by,
                             note=f"Difference of {money_text(amount, invoice.currency)} written off ({receipt.number})")
    return journal_post(
        legal_entity_id=invoice.legal_entity_id, kind=JournalEntry.Kind.APPLICATION, document_date=dates.today(),
        by=by, currency=invoice.currency, source=receipt, source_reference=receipt.number,
        memo=f"Payment difference on {invoice.number} written off ({receipt.number})"[:255], lines=[
            LineSpec(amount=amount, account_id=account.pk, description=f"Bank fee / difference {invoice.number}"),
            LineSpec(amount=-amount, role=Account.Role.AR, customer_id=invoice.customer_id,
                     settle_item_id=invoice.open_item_id, description=f"Difference on {invoice.number} written off"),
        ])
