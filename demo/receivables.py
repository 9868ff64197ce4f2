"""Demo cash: the entities' bank accounts, and the bank statements the cash application specialist
imported over the last three months (M-2, M-1 and this month), built from the demo's issued
invoices with the noise real bank files have, all through the receivables services.

- The controller opens the three bank accounts (those printed on the invoices: US01 USD, DE01
  EUR, GB01 GBP). Each bank sends statements in its own format: the US bank BAI2, the German bank
  MT940 until M-2 and camt.053 since (the migration to ISO 20022), the UK bank a CSV export.
- Customers pay around the due date, some early, many late, some not yet (collections comes
  later). Who pays how is a deterministic random mix: most quote the invoice number cleanly, some
  without its prefix (`INV 2026-123`, `2026/000123`), a few with a typo; some pay several
  invoices in one transfer (with or without the numbers), some pay part, short by a bank fee, or
  too much; a few payers are not customers at all, a JPY customer pays its yen invoice in dollars,
  and two payments come back from the payer's bank ("RETURNED ITEM" debit on a later statement),
  which the specialist reverses with the reason. Statements also carry the bank's monthly fee.
- Every file goes through `statement_import` by "cashapp" on its day (pinned with `on_day`): the
  matcher applies what it is sure of and leaves the rest with ranked suggestions. The specialist
  works through what waits for more than two weeks: accepts the suggestion when it is the right one,
  otherwise applies by hand what the remittance and the customer's word say (which teaches the
  matcher the payer's name and account); unknown payers stay in suspense. Receipts of the last
  two weeks wait on the workbench. Two cheques are entered by hand: one applied to an invoice with
  the rest still unexplained (partially applied), one a prepayment put on account.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from billing.models import Invoice
from billing.periods import add_months
from customers.models import Customer
from demo.bankfiles import BankLine, BankStatementFile, csv_mapping, write_statement
from demo.contracts import on_day
from ledger.models import LegalEntity
from otc.models import User
from otc.money import quantize
from receivables.models import BankAccount, Receipt, ReceiptApplication
from receivables.services import (
    bank_account_create,
    receipt_apply,
    receipt_put_on_account,
    receipt_record,
    receipt_reverse,
    statement_import,
)

# entity, account name, number (as on the invoices), currency, bank, BIC / routing, opening balance
ACCOUNTS = [
    ("US01", "Operating account USD", "000123456789", "USD", "First Republic Trust", "121000248", "184250.00"),
    ("DE01", "Geschäftskonto EUR", "DE89370400440532013000", "EUR", "Commerzbank AG", "COBADEFFXXX", "96420.15"),
    ("GB01", "Business current account GBP", "GB33BUKB20201555555555", "GBP", "Barclays Bank plc", "BUKBGB22",
     "41870.60"),
]
STATEMENT_DAYS = (4, 11, 18, 25)
WORK_AFTER = dt.timedelta(days=14)  # the specialist works through receipts waiting longer than this
UNKNOWN_PAYERS = [
    ("NORDIC TRADING LTD", "SEPA transfer"), ("Pacific Freight Logistics LLC", "PAYMENT"),
    ("Alpine Consulting Partners", "Deposit refund"), ("Metro Office Supplies Inc", ""),
    ("Harbor Facility Services", "Monthly service"), ("Lindqvist & Berg AB", "Payment as agreed"),
]
RETURN_TEXT = {"US01": "RETURNED ITEM R01 INSUFFICIENT FUNDS", "DE01": "RUECKUEBERWEISUNG AC04 KONTO ERLOSCHEN",
               "GB01": "RETURNED PAYMENT ACCOUNT CLOSED"}
KINDS = ["clean", "noprefix", "typo", "noref", "partial", "short", "over"]
WEIGHTS = [62, 9, 5, 6, 6, 6, 6]


def _format(entity: str, month: int) -> str:
    """The statement format of an entity's bank in month offset `month` (-2, -1, 0)."""
    if entity == "US01":
        return "bai2"
    if entity == "DE01":
        return "mt940" if month == -2 else "camt053"
    return "csv"


STYLES = {"bai2": ["", "unlabelled", "fedwire", "ach"], "mt940": ["", "swift", "ordp"], "camt053": ["", "ultimate"]}


def _style(fmt: str, n: int, payment: Payment) -> str:
    """How the payer's bank writes this line (demo/bankfiles.py): every style banks use, in turn."""
    styles = STYLES.get(fmt, [""])
    style = styles[n % len(styles)]
    return "" if payment.structured else style


@dataclass
class Payment:
    """What a payer sends (one statement line) and what it should pay (the truth)."""

    entity: str
    value_date: dt.date
    amount: Decimal
    payer_name: str
    payer_account: str
    remittance: str
    kind: str
    truth: list[tuple[int, Decimal]] = field(default_factory=list)
    customer_id: int | None = None
    returned: bool = False
    reference: str = ""
    structured: bool = False


def seed_bank_accounts(controller: User) -> dict[str, BankAccount]:
    accounts = {}
    entities = {e.code: e for e in LegalEntity.objects.all()}
    for code, name, number, currency, bank, bic, _opening in ACCOUNTS:
        account = BankAccount.objects.filter(account_number=number).first()
        if account is None and code in entities:
            account = bank_account_create(legal_entity_id=entities[code].pk, name=name, account_number=number,
                                          currency=currency, bank_name=bank, bic=bic, by=controller)
        if account is not None:
            accounts[code] = account
    return accounts


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in f"{bban}{country}00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def payer_account(customer: Customer) -> str:
    """The customer's own bank account as it shows on statements (deterministic, valid IBAN checks)."""
    n = f"{customer.pk * 7919 % 10**10:010d}"
    if customer.default_currency == "USD" and customer.country in ("US", "CA"):
        return f"00{n}"
    if customer.country == "GB" or customer.default_currency == "GBP":
        return _iban("GB", f"NWBK{n[:6]}{n[2:]}")
    return _iban("DE", f"{(customer.pk * 104729) % 10**8:08d}{n}")


def _payer_name(r: random.Random, customer: Customer, upper: bool) -> str:
    words = customer.legal_name.split()
    choice = r.random()
    name = customer.legal_name
    if choice < 0.25 and len(words) > 2:
        name = " ".join(words[:-1])  # the bank dropped the legal form
    elif choice < 0.35:
        name = name.replace(",", "").replace(".", "")
    return name.upper() if upper or r.random() < 0.3 else name


def _reference(r: random.Random, number: str, kind: str) -> str:
    prefix, year, seq = number.rsplit("-", 2)
    if kind == "clean":
        return r.choice([number, f"Invoice {number}", f"INV {number} thank you", f"{number} subscription",
                         f"Payment {number}"])
    if kind == "noprefix":
        return r.choice([f"INV {year}-{int(seq)}", f"{year}/{seq}", f"Rechnung {year}-{seq}", f"Invoice no. {int(seq)}"])
    if kind == "bare":
        return r.choice([f"{year}/{seq}", f"INV-{year}-{seq}", f"{year}-{int(seq)}"])
    digits = list(seq)  # typo: two digits swapped, one different, or one dropped (not a leading zero)
    first = next((n for n, digit in enumerate(digits) if digit != "0"), len(digits) - 1)
    i = r.randrange(max(0, min(first - 1, len(digits) - 2)), len(digits) - 1)
    mode = r.random()
    if mode < 0.45 and digits[i] != digits[i + 1]:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    elif mode < 0.85:
        digits[i + 1] = str((int(digits[i + 1]) + r.randint(1, 9)) % 10)
    else:
        del digits[i]
    return f"{prefix}-{year}-{''.join(digits)}"


class DemoCash:
    def __init__(self, *, users: dict[str, User], today: dt.date, seed: int) -> None:
        self.r = random.Random(seed)
        self.today = today
        self.cashapp, self.controller = users["cashapp"], users["controller"]
        self.this_month = today.replace(day=1)
        self.start = add_months(self.this_month, -2)
        self.accounts: dict[str, BankAccount] = {}
        self.days: dict[str, list[dt.date]] = {}
        self.payments: list[Payment] = []
        self.truth: dict[tuple[int, str], Payment] = {}  # (bank account, reference) -> payment
        self.returns: list[tuple[dt.date, Payment, str]] = []
        self.imports: Counter[str] = Counter()
        self.reversed = 0
        # the first payments planned take these kinds, so that even a small demo shows each of them
        self.forced = ["short", "partial", "over", "typo", "noprefix", "noref", "short", "partial", "clean", "typo"]

    # --- the plan --------------------------------------------------------------------------------------

    def statement_days(self) -> list[dt.date]:
        days = []
        for offset in (-2, -1, 0):
            month = add_months(self.this_month, offset)
            days += [month.replace(day=d) for d in STATEMENT_DAYS if month.replace(day=d) <= self.today]
        if self.today not in days:
            days.append(self.today)
        return days

    def day_for(self, value_date: dt.date) -> dt.date | None:
        return next((day for day in self.statement_days() if day >= value_date), None)

    def eligible(self) -> list[Invoice]:
        """Issued invoices that people may pay: not credited (the credit-note story stays as billed),
        active customers, our three currencies plus JPY (paid in dollars, see `wrong_currency`)."""
        return list(Invoice.objects.filter(
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID], gross_total__gt=0,
            issue_date__lt=self.today, credit_notes__isnull=True, customer__status=Customer.Status.ACTIVE,
        ).select_related("customer", "legal_entity").order_by("issue_date", "number"))

    def when(self, invoice: Invoice) -> dt.date | None:
        """The value date the customer pays on, or None (not paid yet, or not at all)."""
        r = self.r
        if r.random() < 0.25:
            return None  # a late payer: collections' work
        day = invoice.due_date + dt.timedelta(days=r.choice([-14, -9, -5, -2, 0, 0, 1, 3, 6, 10, 16, 24]))
        day = max(day, invoice.issue_date + dt.timedelta(days=3), self.start)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return day if day <= self.today else None

    def plan(self) -> None:
        invoices = self.eligible()
        by_customer: dict[int, list[Invoice]] = defaultdict(list)
        for invoice in invoices:
            by_customer[invoice.customer_id].append(invoice)
        jpy = [i for i in invoices if i.currency == "JPY"]
        if jpy and "US01" in self.accounts:
            self.wrong_currency(jpy[0])
        customers = sorted(by_customer)
        self.r.shuffle(customers)
        together = 0
        for customer_id in customers:
            mine = [i for i in by_customer[customer_id] if i.currency in ("USD", "EUR", "GBP")
                    and i.legal_entity.code in self.accounts]
            if len(mine) >= 2 and (together < 2 or self.r.random() < 0.25):
                # one transfer for several invoices: with their numbers, or (every other) none at all
                mine = self.together(mine[:3], numbers=together % 2 == 0)
                together += not mine
            for invoice in mine:
                self.single(invoice)
        self.unknown_payers()
        self.legacy_payments()
        self.choose_returns()

    def legacy_payments(self) -> None:
        """Customers paying opening balances migrated from the previous system (LEG-...): with the
        legacy number in the remittance, or without it (matched by payer and amount)."""
        from ledger.models import OpenItem

        codes = {entity.pk: entity.code for entity in LegalEntity.objects.all()}
        items = (OpenItem.objects.filter(document_type="opening", open_amount__gt=0, account__role="ar")
                 .select_related("customer").order_by("pk"))
        chosen = [item for item in items if codes.get(item.legal_entity_id) in self.accounts
                  and self.accounts[codes[item.legal_entity_id]].currency == item.currency][:8]
        for n, item in enumerate(chosen):
            day = self.today - dt.timedelta(days=self.r.randint(3, 50))
            customer = item.customer
            self.payments.append(Payment(
                entity=codes[item.legal_entity_id], value_date=day, amount=item.open_amount,
                payer_name=_payer_name(self.r, customer, codes[item.legal_entity_id] == "US01"),
                payer_account=payer_account(customer) if n % 2 else "",
                remittance=item.document_number if n % 3 else "", kind="legacy",
                truth=[(-item.pk, item.open_amount)], customer_id=customer.pk))

    def _customer_line(self, invoice: Invoice, **kwargs) -> dict:
        customer = invoice.customer
        upper = invoice.legal_entity.code == "US01"
        account = payer_account(customer) if self.r.random() < 0.7 else ""
        return {"entity": invoice.legal_entity.code, "payer_name": _payer_name(self.r, customer, upper),
                "payer_account": account, "customer_id": customer.pk, **kwargs}

    def single(self, invoice: Invoice) -> None:
        r = self.r
        day = self.when(invoice)
        if day is None:
            return
        kind = self.forced.pop(0) if self.forced else r.choices(KINDS, weights=WEIGHTS)[0]
        open_amount = invoice.balance_due
        amount, truth = open_amount, [(invoice.pk, open_amount)]
        remittance = _reference(r, invoice.number, "clean" if kind in ("partial", "short", "over") else kind)
        if kind == "noref":
            remittance = r.choice(["", "PAYMENT", "Subscription", "Monthly fee"])
        elif kind == "partial":
            amount = quantize(open_amount * Decimal(r.choice(["0.4", "0.5", "0.6"])), invoice.currency)
            truth = [(invoice.pk, amount)]
            remittance = f"{remittance} part payment"
        elif kind == "short":
            amount = open_amount - Decimal(r.choice(["7.50", "15.00", "25.00"]))
            truth = [(invoice.pk, amount)]
        elif kind == "over":
            amount = open_amount + Decimal(r.choice(["100.00", "250.00"]))
        if amount <= 0:
            return
        self.payments.append(Payment(**self._customer_line(invoice), value_date=day, amount=amount,
                                     remittance=remittance, kind=kind, truth=truth,
                                     structured=kind == "clean" and remittance == invoice.number and r.random() < 0.5))

    def together(self, invoices: list[Invoice], *, numbers: bool) -> list[Invoice]:
        """One transfer for the invoices of a customer due by then (at least two): with their numbers,
        or none at all (the matcher finds the combination). Returns the invoices left out."""
        days = {invoice.pk: self.when(invoice) for invoice in invoices}
        paid = [invoice for invoice in invoices if days[invoice.pk] is not None]
        if len(paid) < 2:
            return invoices
        amount = sum((i.balance_due for i in paid), Decimal(0))
        remittance = ("Invoices " + ", ".join(i.number if n % 2 == 0 else _reference(self.r, i.number, "bare")
                                              for n, i in enumerate(paid)) if numbers else "")
        line = self._customer_line(paid[0])
        if not numbers:
            line["payer_account"] = payer_account(paid[0].customer)
        self.payments.append(Payment(**line, value_date=max(days[i.pk] for i in paid), amount=amount,
                                     remittance=remittance, kind="multi" if numbers else "combination",
                                     truth=[(i.pk, i.balance_due) for i in paid]))
        return []

    def wrong_currency(self, invoice: Invoice) -> None:
        """A JPY customer pays its yen invoice in dollars into the USD account: no invoice to apply to."""
        usd = quantize(invoice.balance_due * Decimal("0.0067"), "USD")
        day = max(self.start, invoice.due_date)
        if day > self.today:
            day = self.today
        self.payments.append(Payment(entity="US01", value_date=day, amount=usd,
                                     payer_name=invoice.customer.legal_name.upper(), payer_account="",
                                     remittance=f"INV {invoice.number} USD EQUIVALENT", kind="wrong_currency",
                                     customer_id=invoice.customer_id))

    def unknown_payers(self) -> None:
        for offset in (-2, -1, 0):
            month = add_months(self.this_month, offset)
            for code in self.accounts:
                name, text = self.r.choice(UNKNOWN_PAYERS)
                day = min(month.replace(day=self.r.randint(2, 27)), self.today)
                amount = Decimal(self.r.randint(25_000, 950_000)) / 100
                self.payments.append(Payment(entity=code, value_date=max(day, self.start), amount=amount,
                                             payer_name=name, payer_account="", remittance=text, kind="unknown"))

    def choose_returns(self) -> None:
        """Two clean payments come back (one in dollars, one in euros) on a later statement."""
        ordered = sorted(self.payments, key=lambda p: p.value_date)
        ordered = ordered[len(ordered) // 3:] + ordered[:len(ordered) // 3]  # not the very first ones
        for code in ("US01", "DE01"):
            for payment in ordered:
                day = self.day_for(payment.value_date)
                later = day and self.day_for(day + dt.timedelta(days=4))
                if payment.entity == code and payment.kind == "clean" and later and later != day:
                    payment.returned = True
                    break

    # --- the days --------------------------------------------------------------------------------------

    def run(self) -> None:
        days = self.statement_days()
        lines: dict[tuple[str, dt.date], list[tuple[Payment | None, BankLine]]] = defaultdict(list)
        for n, payment in enumerate(sorted(self.payments, key=lambda p: (p.value_date, p.entity, p.amount))):
            day = self.day_for(payment.value_date)
            if day is None or payment.entity not in self.accounts:
                continue
            currency = self.accounts[payment.entity].currency
            payment.reference = f"{payment.entity[:2]}{day:%y%m%d}{n:05d}"
            fmt = _format(payment.entity, self.month_offset(day))
            lines[payment.entity, day].append((payment, BankLine(
                value_date=payment.value_date, amount=payment.amount, currency=currency, payer_name=payment.payer_name,
                payer_account=payment.payer_account, remittance=payment.remittance, bank_reference=payment.reference,
                structured=payment.structured and fmt == "camt053", style=_style(fmt, n, payment))))
            if payment.returned:
                back = self.day_for(day + dt.timedelta(days=4))
                reference = f"RT{back:%y%m%d}{n:05d}"
                lines[payment.entity, back].append((None, BankLine(
                    value_date=back, amount=-payment.amount, currency=currency, payer_name=payment.payer_name,
                    payer_account=payment.payer_account, bank_reference=reference,
                    remittance=f"{RETURN_TEXT[payment.entity]} ORIG REF {payment.reference}")))
                self.returns.append((back, payment, reference))
        for code in self.accounts:  # the bank's fee on the month's last statement
            for offset in (-2, -1):
                month_days = [d for d in days if self.month_offset(d) == offset]
                if month_days:
                    fee = Decimal("35.00") if code == "US01" else Decimal("18.50")
                    lines[code, month_days[-1]].append((None, BankLine(
                        value_date=month_days[-1], amount=-fee, currency=self.accounts[code].currency,
                        remittance="Account maintenance fee", bank_reference=f"FE{month_days[-1]:%y%m%d}{code}")))
        balances = {code: Decimal(opening) for code, *_rest, opening in ACCOUNTS}
        sequences: Counter[str] = Counter()
        for day in sorted({*days, self.cheque_day()}):
            with on_day(day):
                for code, account in self.accounts.items():
                    todays = lines.get((code, day), [])
                    if day not in days or (not todays and _format(code, self.month_offset(day)) == "csv"):
                        continue  # no statement on a cheque-only day; an export of nothing is no file
                    sequences[code] += 1
                    statement = BankStatementFile(
                        account_number=account.account_number, currency=account.currency, day=day,
                        statement_id=f"{code}{day:%y%m%d}", opening_balance=balances[code],
                        lines=[line for _, line in todays], bank_id=account.bic, sequence=sequences[code])
                    balances[code] = statement.closing_balance
                    self.import_file(code, day, statement)
                    for payment, line in todays:
                        if payment is not None:
                            self.truth[account.pk, line.bank_reference] = payment
                for back, payment, reference in self.returns:
                    if back == day:
                        self.reverse(payment, reference)
                self.cheques(day)
                self.work_through(day)

    def month_offset(self, day: dt.date) -> int:
        return (day.year - self.this_month.year) * 12 + day.month - self.this_month.month

    def import_file(self, code: str, day: dt.date, statement: BankStatementFile) -> None:
        fmt = _format(code, self.month_offset(day))
        data = write_statement(fmt, statement)
        extension = {"bai2": "bai", "camt053": "xml", "mt940": "sta", "csv": "csv"}[fmt]
        statement_import(data=data, file_name=f"{code}_{fmt}_{day:%Y%m%d}.{extension}", by=self.cashapp,
                         csv_mapping=csv_mapping(statement.account_number) if fmt == "csv" else None)
        self.imports[fmt] += 1

    def reverse(self, payment: Payment, reference: str) -> None:
        receipt = Receipt.objects.filter(bank_account=self.accounts[payment.entity],
                                         bank_reference=payment.reference).first()
        if receipt is not None and receipt.status != Receipt.Status.REVERSED:
            reason = RETURN_TEXT[payment.entity].title()
            receipt_reverse(receipt_id=receipt.pk, by=self.cashapp,
                            reason=f"Returned by the payer's bank: {reason} (statement line {reference}).")
            self.reversed += 1

    # --- the specialist ------------------------------------------------------------------------------

    def work_through(self, day: dt.date) -> None:
        """Receipts waiting longer than two weeks: accept the suggestion if it is the truth, else apply
        the truth by hand; overpayments' rest goes on account; unknown payers stay in suspense."""
        waiting = Receipt.objects.filter(
            source=Receipt.Source.STATEMENT, status=Receipt.Status.UNAPPLIED,
            value_date__lte=day - WORK_AFTER).order_by("value_date", "pk")
        for receipt in waiting:
            payment = self.truth.get((receipt.bank_account_id, receipt.bank_reference))
            if payment is None or not payment.truth or payment.returned:
                continue
            truth = list(payment.truth)
            invoices = Invoice.objects.in_bulk([i for i, _ in truth if i > 0])
            if any(i not in invoices or invoices[i].status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
                   or invoices[i].balance_due < amount for i, amount in truth if i > 0):
                continue  # the matcher (or a person) already took it elsewhere: left for a person to sort out
            top = receipt.suggestions[0] if receipt.suggestions else None
            chosen = top and sorted((a["invoice_id"], Decimal(a["amount"])) for a in top["allocations"]) == sorted(truth)
            if chosen:
                receipt_apply(receipt_id=receipt.pk, allocations=truth, by=self.cashapp,
                              rule=("+".join(top.get("rules") or []) or "suggestion")[:40], score=top.get("score"),
                              reason="Suggestion accepted: " + "; ".join(top.get("reasons") or []))
            else:
                receipt_apply(receipt_id=receipt.pk, allocations=truth, by=self.cashapp,
                              reason=f"Applied by hand: remittance {receipt.remittance!r} and the customer's "
                                     "remittance advice.")
            if payment.kind == "over":
                receipt_put_on_account(receipt_id=receipt.pk, by=self.cashapp,
                                       note="Overpayment: left as the customer's credit for the next invoice.")

    def cheques(self, day: dt.date) -> None:
        """A cheque for an invoice and more (the rest unexplained yet), and a prepayment cheque."""
        if "US01" not in self.accounts:
            return
        if day == self.cheque_day():
            invoice = next((i for i in self.eligible() if i.currency == "USD" and i.legal_entity.code == "US01"
                            and i.amount_paid == 0 and i.pk not in self.planned()), None)
            if invoice is not None:
                receipt = receipt_record(data={
                    "bank_account_id": self.accounts["US01"].pk, "value_date": day, "customer_id": invoice.customer_id,
                    "amount": invoice.balance_due + Decimal("1250.00"), "payer_name": invoice.customer.legal_name,
                    "bank_reference": f"CHK-{day:%y%m%d}-004512",
                    "remittance": f"Cheque 004512 for {invoice.number} and older items"}, by=self.cashapp)
                receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, invoice.balance_due)], by=self.cashapp,
                              reason=f"Cheque 004512 names {invoice.number}; the other 1,250.00 is being checked "
                                     "with the customer.")
        if day == self.today:
            customer = (Customer.objects.filter(status=Customer.Status.ACTIVE, default_currency="USD",
                                                invoices__legal_entity__code="US01").order_by("pk").first())
            if customer is not None:
                receipt = receipt_record(data={
                    "bank_account_id": self.accounts["US01"].pk, "value_date": day, "customer_id": customer.pk,
                    "amount": Decimal("3600.00"), "payer_name": customer.legal_name,
                    "bank_reference": f"CHK-{day:%y%m%d}-000877",
                    "remittance": "Cheque 000877: prepayment for two training days"}, by=self.cashapp)
                receipt_put_on_account(receipt_id=receipt.pk, by=self.cashapp,
                                       note="Prepayment for the training days booked next month.")

    def cheque_day(self) -> dt.date:
        return min(add_months(self.this_month, -1).replace(day=14), self.today)

    def planned(self) -> set[int]:
        return {invoice_id for p in self.payments for invoice_id, _ in p.truth}


def _difference_limits() -> None:
    """The cash application specialist may write off bank fees and small differences up to 100 (10,000 JPY)
    when accepting a short payment (receivables.services.differences)."""
    from django.contrib.auth.models import Group

    from otc import roles
    from otc.models import ApprovalLimit

    group = Group.objects.filter(name=roles.CASH_APPLICATION).first()
    if group is None:
        return
    for currency, amount in (("USD", 100), ("EUR", 100), ("GBP", 100), ("JPY", 10_000)):
        ApprovalLimit.objects.get_or_create(kind=ApprovalLimit.Kind.WRITE_OFF, role=group, user=None, currency=currency,
                                            legal_entity=None, defaults={"max_amount": Decimal(amount)})


def seed_receivables(*, users: dict[str, User], today: dt.date, seed: int = 5) -> dict:
    """Bank accounts, three months of imported statements and the specialist's work; returns counts."""
    cash = DemoCash(users=users, today=today, seed=seed)
    _difference_limits()
    with on_day(add_months(today.replace(day=1), -2)):
        cash.accounts = seed_bank_accounts(users["controller"])
    cash.plan()
    cash.run()
    statement_receipts = Receipt.objects.filter(source=Receipt.Source.STATEMENT)
    auto = (ReceiptApplication.objects.filter(receipt__source=Receipt.Source.STATEMENT, applied_by__isnull=True)
            .values("receipt").distinct().count())
    return {
        "imports": dict(cash.imports),
        "receipts": dict(Counter(Receipt.objects.values_list("status", flat=True))),
        "auto_applied": auto,
        "statement_receipts": statement_receipts.count(),
        "applications": ReceiptApplication.objects.count(),
        "reversed": cash.reversed,
    }
