"""Cash-application benchmark: N receipts (default 10,000) against M open invoices (default
200,000) on PostgreSQL, with a known truth for every receipt and the noise a real bank file has:
clean references, missing prefixes, typos, one payment for several invoices, no reference at all
(exact amount or a combination, payer by name or by bank account), short payments (bank fees),
overpayments and unknown payers. The receipts arrive as one CSV statement through the real
import (parse, record, match, apply). Prints the auto-apply rate, the wrong-application rate
(any application that is not the truth) and the time; asserts the books reconcile.

    .venv/bin/python bench/cash_application.py                   # 10,000 x 200,000
    .venv/bin/python bench/cash_application.py --receipts 2000 --invoices 40000

It migrates and EMPTIES the database it is pointed at (default: otc_bench on local PostgreSQL).
Targets (issue 5): >= 90% applied automatically, < 0.1% applied wrongly, < 60 s for the batch."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")
os.environ["DEBUG"] = "false"
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.foundation import _ensure_database  # noqa: E402
from billing.models import Invoice  # noqa: E402
from demo.customers import seed_customers  # noqa: E402
from demo.ledger import seed_entities, seed_fx_rates  # noqa: E402
from demo.users import seed_users  # noqa: E402
from ledger.models import Account  # noqa: E402
from ledger.selectors import ar_reconciliation  # noqa: E402
from ledger.services import EntrySpec, LineSpec, OpenItemSpec, journal_post_batch, number_series_take  # noqa: E402
from otc import dates  # noqa: E402
from otc.bulk import bulk_insert_rows, bulk_update_rows  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402
from receivables.models import PayerAlias, Receipt, ReceiptApplication  # noqa: E402
from receivables.parsers import CsvMapping  # noqa: E402
from receivables.services import bank_account_create, statement_import  # noqa: E402

ISSUED = dt.date(2026, 9, 30)
PAID = dt.date(2026, 11, 20)
ACCOUNT = "DE12500105170648489890"
CENT = Decimal("0.01")


def make_invoices(n: int, customers: list, entity) -> list[Invoice]:
    """n issued invoices with their AR postings and open items, written in bulk."""
    r = random.Random(11)
    seqs = number_series_take(legal_entity_id=entity.pk, doc_type="invoice", fiscal_year=2026, count=n)
    invoices = []
    for seq in seqs:
        net = Decimal(r.randint(5_000, 2_000_000)) * CENT
        tax = (net * Decimal("0.19")).quantize(CENT)
        customer = r.choice(customers)
        invoices.append(Invoice(
            legal_entity=entity, customer=customer, currency="EUR", status=Invoice.Status.ISSUED,
            number=f"{entity.invoice_prefix}-2026-{seq:06d}", issue_date=ISSUED - dt.timedelta(days=r.randint(0, 150)),
            payment_terms_days=30, net_total=net, tax_total=tax, gross_total=net + tax))
    for invoice in invoices:
        invoice.due_date = invoice.issue_date + dt.timedelta(days=30)
    bulk_insert_rows(invoices)
    revenue = Account.objects.get(legal_entity=entity, code="4000").pk
    for start in range(0, n, 10_000):
        chunk = invoices[start:start + 10_000]
        entries = journal_post_batch(legal_entity_id=entity.pk, kind="invoice", document_date=ISSUED, by=None, entries=[
            EntrySpec(currency="EUR", source=i, source_reference=i.number, lines=[
                LineSpec(amount=i.gross_total, role="ar", customer_id=i.customer_id,
                         open_item=OpenItemSpec("invoice", i.number, i.issue_date, i.due_date)),
                LineSpec(amount=-i.net_total, account_id=revenue),
                LineSpec(amount=-i.tax_total, role="tax_payable"),
            ]) for i in chunk])
        for invoice, entry in zip(chunk, entries, strict=True):
            invoice.journal_entry, invoice.open_item = entry, entry.opened_items[0]
        bulk_update_rows(chunk, ["journal_entry", "open_item"])
    return invoices


def payer_variant(r: random.Random, name: str) -> str:
    """How a bank writes the payer: upper case, the legal form dropped or changed, a prefix."""
    words = name.split()
    choice = r.random()
    if choice < 0.35:
        return name.upper()
    if choice < 0.6 and len(words) > 2:
        return " ".join(words[:-1])
    if choice < 0.75:
        return f"{name.replace(',', '')}"
    return name


def number_variant(r: random.Random, number: str, kind: str) -> str:
    prefix, year, seq = number.rsplit("-", 2)
    if kind == "clean":
        return r.choice([number, f"Invoice {number}", f"{number} thank you", f"RE {number}"])
    if kind == "noprefix":
        return r.choice([f"INV {year}-{int(seq)}", f"{year}/{seq}", f"Rechnung {year}-{seq}", f"INV-{year}-{seq}"])
    digits = list(seq)  # a typo: one digit substituted, two swapped, or one dropped
    i = r.randrange(1, len(digits) - 1)
    mode = r.random()
    if mode < 0.4:
        digits[i] = str((int(digits[i]) + r.randint(1, 9)) % 10)
    elif mode < 0.8:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
        if digits[i] == digits[i + 1]:
            digits[i] = str((int(digits[i]) + 1) % 10)
    else:
        del digits[i]
    return f"{prefix}-{year}-{''.join(digits)}"


def make_receipts(n: int, invoices: list[Invoice], names: dict[int, str], accounts: dict[int, str]):
    """CSV rows and the truth per bank reference: [(invoice id, amount)] or [] for "apply nothing"."""
    r = random.Random(7)
    by_customer: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        by_customer.setdefault(invoice.customer_id, []).append(invoice)
    pool = invoices[:]
    r.shuffle(pool)
    used: set[int] = set()
    kinds = r.choices(["clean", "noprefix", "typo", "multi", "name_amount", "combination", "short", "over", "unknown"],
                      weights=[58, 8, 5, 8, 6, 4, 4, 3, 4], k=n)
    rows, truth, kinds_of = [], {}, {}

    def take(customer_id=None, count=1):
        candidates = by_customer[customer_id] if customer_id else pool
        picked = []
        for invoice in candidates:
            if invoice.pk not in used:
                picked.append(invoice)
                used.add(invoice.pk)
                if len(picked) == count:
                    break
        return picked if len(picked) == count else None

    for index, kind in enumerate(kinds):
        ref = f"BNK-{index:07d}"
        remittance, payer_account = "", ""
        if kind == "unknown":
            amount = Decimal(r.randint(1_000, 500_000)) * CENT
            payer = f"{r.choice(['Nordic', 'Pacific', 'Alpine', 'Metro'])} {r.choice(['Trading', 'Logistics'])} Ltd"
            rows.append((amount, payer, "", r.choice(["", "PAYMENT", "SEPA transfer"]), ref))
            truth[ref], kinds_of[ref] = [], kind
            continue
        taken = take()
        if taken is None:
            break
        first = taken[0]
        customer = first.customer_id
        payer = payer_variant(r, names[customer])
        if kind in ("name_amount", "combination") or r.random() < 0.5:
            payer_account = accounts.get(customer, "")
        picked = [first]
        if kind in ("multi", "combination"):
            more = take(customer, r.randint(1, 2 if kind == "combination" else 3))
            if more:
                picked += more
        amount = sum((i.gross_total for i in picked), Decimal(0))
        allocation = [(i.pk, i.gross_total) for i in picked]
        if kind in ("clean", "short", "over"):
            remittance = number_variant(r, first.number, "clean")
        elif kind == "noprefix":
            remittance = number_variant(r, first.number, "noprefix")
        elif kind == "typo":
            remittance = number_variant(r, first.number, "typo")
        elif kind == "multi":
            remittance = " ".join(number_variant(r, i.number, r.choice(["clean", "noprefix"])) for i in picked)
        if kind == "short":
            fee = Decimal(r.choice(["7.50", "15.00", "25.00"]))
            amount -= fee
            allocation = [(first.pk, first.gross_total - fee)]
        elif kind == "over":
            amount += Decimal(r.choice(["100.00", "250.00"]))
        rows.append((amount, payer, payer_account, remittance, ref))
        truth[ref], kinds_of[ref] = allocation, kind
    return rows, truth, kinds_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=200_000)
    args = parser.parse_args()
    _ensure_database()
    call_command("migrate", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    ensure_roles()
    users = seed_users()
    seed_fx_rates(year=2026)
    entity = next(e for e in seed_entities() if e.code == "DE01")
    dates.today = lambda: PAID  # the statement's day
    started = time.perf_counter()
    with transaction.atomic():
        customers = seed_customers(count=max(500, args.invoices // 50), owners=[users["sales1"]], by=users["billing"])
        invoices = make_invoices(args.invoices, customers, entity)
    print(f"{'set-up: customers and open invoices (bulk)':<52} {time.perf_counter() - started:8.2f} s  "
          f"{len(invoices):,} invoices, {len(customers):,} customers")

    r = random.Random(3)
    names = {c.pk: c.legal_name for c in customers}
    accounts = {c.pk: f"DE{r.randint(10**19, 10**20 - 1)}" for c in customers if r.random() < 0.4}
    PayerAlias.objects.bulk_create([PayerAlias(kind="account", value=v, customer_id=k) for k, v in accounts.items()])
    bank_account_create(legal_entity_id=entity.pk, name="Operating EUR", account_number=ACCOUNT, currency="EUR",
                        by=users["controller"])
    rows, truth, kinds = make_receipts(args.receipts, invoices, names, accounts)
    lines = ["Date,Amount,Currency,Payer,Payer Account,Reference,Transaction ID"]
    for amount, payer, payer_account, remittance, ref in rows:
        quoted = remittance.replace('"', '""')
        lines.append(f'{PAID:%Y-%m-%d},{amount},EUR,"{payer}",{payer_account},"{quoted}",{ref}')
    data = ("\n".join(lines) + "\n").encode()
    mapping = CsvMapping(date="Date", amount="Amount", currency="Currency", payer_name="Payer",
                         payer_account="Payer Account", remittance="Reference", bank_reference="Transaction ID",
                         account_number=ACCOUNT)

    started = time.perf_counter()
    run = statement_import(data=data, file_name="bench.csv", by=users["cashapp"], csv_mapping=mapping)
    seconds = time.perf_counter() - started
    print(f"{'import, match and apply the statement':<52} {seconds:8.2f} s  {run.receipts_created:,} receipts "
          f"({run.receipts_created / seconds:,.0f}/s)")

    applied: dict[str, list[tuple[int, Decimal]]] = {}
    for ref, invoice_id, amount in (ReceiptApplication.objects.filter(reversed_at__isnull=True)
                                    .values_list("receipt__bank_reference", "invoice_id", "amount")):
        applied.setdefault(ref, []).append((invoice_id, amount))
    total = len(truth)
    auto = sum(1 for ref in truth if ref in applied)
    wrong = [ref for ref, allocation in applied.items() if sorted(allocation) != sorted(truth[ref])]
    by_kind = Counter(kinds.values())
    auto_kind = Counter(kinds[ref] for ref in truth if ref in applied)
    wrong_kind = Counter(kinds[ref] for ref in wrong)
    print(f"{'applied automatically':<52} {auto:8,} of {total:,}  ({auto / total:.1%})")
    print(f"{'applied wrongly':<52} {len(wrong):8,}        ({len(wrong) / total:.2%})")
    for kind in sorted(by_kind):
        print(f"    {kind:<20} {by_kind[kind]:6,} receipts  auto {auto_kind[kind] / by_kind[kind]:6.1%}  "
              f"wrong {wrong_kind[kind]:4}")
    print(f"{'peak RSS':<52} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")
    for ref in wrong[:5]:
        receipt = Receipt.objects.get(bank_reference=ref)
        print(f"  wrong: {ref} {kinds[ref]} remittance={receipt.remittance!r} payer={receipt.payer_name!r} "
              f"truth={truth[ref]} applied={applied[ref]}")
    assert all(row["difference"] == 0 for row in ar_reconciliation()), "AR control != open items"


if __name__ == "__main__":
    main()
