"""Cash-application benchmark: N receipts (default 10,000) against M open invoices (default
200,000) on PostgreSQL, with a known truth for every receipt, written as banks write them: MT940 (the
German ?20..?32 subfields, the SWIFT /ORDP//NAME/ /REMI/ /EREF/ style, /ORDP/ name), BAI2 (ORG=/OBI=
wire tags, an unlabelled originator line with its address, Fedwire B/O: 1/name, ACH ORIG CO NAME cut at
16 with RMR*IV*, records filled to 80 and continued mid-word), camt.053 (RltdPties/Dbtr, Ustrd,
Strd/RfrdDocInf/Nb, the reference only in EndToEndId, the payer only as UltmtDbtr) and CSV (every column,
or only date, amount, name and details). Payer names carry bank noise (PAYMENT FROM, AP DEPT, ACCOUNTS
PAYABLE, legal forms spelled out or abbreviated, GESELLSCHAFT MIT BESCHRAENKTER HAFTUNG and the like cut at 35
characters inside the form) and references cut at the EndToEndId's 35 characters.

Kinds of receipt: clean references, tags glued to references (OBI=, REF:, INV#), missing prefixes,
typos, typo traps (a one-digit slip that is another customer's open invoice of the same amount), several
invoices, no reference (payer by name or by account), lumps without remittance, short, over and partial
payments, opening balances migrated from a previous system (LEG-...), unknown payers. ``--mix other``
runs the same noise in other proportions. Each format is one file through the real import (parse,
record, match, apply). Prints per format and per kind: automatic applications among receipts of known
payers, wrong applications, and for what is left the top suggestion right and the share moved out of
suspense; asserts the books reconcile.

    .venv/bin/python bench/cash_application.py                   # 10,000 x 200,000
    .venv/bin/python bench/cash_application.py --receipts 2000 --invoices 40000 --mix other

It migrates and EMPTIES the database it is pointed at (default: otc_bench on local PostgreSQL).
Targets (issue 13): >= 90% of known payers' receipts applied automatically in every format, 0 wrong,
top suggestion right for >= 90% of what is left, < 60 s for 10,000 x 200,000."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import resource
import sys
import time
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

from bench.foundation import ensure_database  # noqa: E402
from billing.models import Invoice  # noqa: E402
from demo.bankfiles import (  # noqa: E402
    BankLine,
    BankStatementFile,
    csv_mapping,
    csv_short_mapping,
    write_csv,
    write_csv_short,
    write_statement,
)
from demo.customers import seed_customers  # noqa: E402
from demo.ledger import seed_entities, seed_fx_rates  # noqa: E402
from demo.users import seed_users  # noqa: E402
from ledger.models import Account, Period  # noqa: E402
from ledger.selectors import ar_reconciliation  # noqa: E402
from ledger.services import EntrySpec, LineSpec, OpenItemSpec, journal_post_batch, number_series_take  # noqa: E402
from otc import dates  # noqa: E402
from otc.bulk import bulk_insert_rows, bulk_update_rows  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402
from receivables.models import PayerAlias, Receipt, ReceiptApplication  # noqa: E402
from receivables.services import bank_account_create, statement_import  # noqa: E402

ISSUED = dt.date(2026, 9, 30)
PAID = dt.date(2026, 11, 20)
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
            legal_entity=entity, customer=customer, currency="EUR", status=Invoice.Status.DRAFT,
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
            invoice.status = Invoice.Status.ISSUED  # written as drafts: an issued invoice's columns are immutable
        bulk_update_rows(chunk, ["journal_entry", "open_item", "status"])
    return invoices


LEGAL_FORMS = [("Limited", "LTD"), ("Ltd", "LIMITED"), ("GmbH", "G.M.B.H."), ("Inc.", "INCORPORATED"),
               ("LLC", "L.L.C."), ("S.A.", "SA"), ("Corp.", "CORPORATION"), ("AG", "A.G."), ("B.V.", "BV")]
# spelled out in full, as some payers' master data has it (cut at 35 inside the form, word by word)
SPELLED_FORMS = [("GmbH", "GESELLSCHAFT MIT BESCHRAENKTER HAFTUNG"), ("AG", "AKTIENGESELLSCHAFT"),
                 ("LLC", "LIMITED LIABILITY COMPANY"), ("S.A.", "SOCIEDAD ANONIMA"), ("plc", "PUBLIC LIMITED COMPANY")]


def payer_variant(r: random.Random, name: str) -> str:
    """How a bank prints the payer: upper case, legal forms spelled out or abbreviated, the bank's
    and the AP department's words around the name, names cut at 35 characters."""
    out = name
    spelled = r.random() < 0.15
    for form, other in SPELLED_FORMS if spelled else LEGAL_FORMS:
        if out.endswith(" " + form) and (spelled or r.random() < 0.4):
            out = out[: -len(form)] + other
    roll = r.random()
    if roll < 0.15:
        out = f"PAYMENT FROM {out}"
    elif roll < 0.25:
        out = f"{out} AP DEPT"
    elif roll < 0.33:
        out = f"{out} ACCOUNTS PAYABLE"
    if r.random() < 0.6:
        out = out.upper()
    if r.random() < 0.5:
        out = out[:35]
    return out.strip()


def number_variant(r: random.Random, number: str, kind: str) -> str:
    prefix, year, seq = number.rsplit("-", 2)
    if kind == "clean":
        return r.choice([number, f"Invoice {number}", f"{number} thank you", f"RE {number}"])
    if kind == "tagged":  # the tag glued to the number, as US wires and AP systems send it
        return r.choice([f"OBI={number}", f"RFB={number}", f"REF:{number}", f"INV#{number}", f"/INV/{number}",
                         f"REF={number} PO 4411"])
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


NO_PAYER: set[str] = set()  # bank references of lines of a known customer that carry neither name nor account
KINDS = ["clean", "tagged", "noprefix", "typo", "typo_trap", "multi", "name_amount", "account_amount", "combination",
         "short", "over", "partial", "opening", "unknown"]
MIXES = {  # weights per kind: the bench's default, and the same noise in other proportions
    "default": [50, 6, 7, 4, 2, 7, 6, 3, 3, 4, 2, 1, 2, 3],
    "other": [25, 10, 10, 8, 5, 8, 10, 5, 6, 4, 3, 2, 2, 2],
}
FORMATS = ("mt940", "bai2", "camt053", "csv")
STYLES = {"mt940": ["", "swift", "ordp"], "bai2": ["", "unlabelled", "fedwire", "ach", "wrapped"],
          "camt053": ["", "documents", "e2e", "ultimate"], "csv": ["", "short"]}


def make_receipts(n: int, invoices: list[Invoice], names: dict[int, str], accounts: dict[int, str],
                  openings: dict[int, list], mix: str):
    """Bank lines and the truth per bank reference: [(allocation id, amount)] or [] for "apply nothing".
    An allocation id is the invoice id, or minus the open item id of an opening balance."""
    r = random.Random(7)
    by_customer: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        by_customer.setdefault(invoice.customer_id, []).append(invoice)
    by_amount: dict[Decimal, list[Invoice]] = {}
    for invoice in invoices:
        by_amount.setdefault(invoice.gross_total, []).append(invoice)
    pool = invoices[:]
    r.shuffle(pool)
    used: set[int] = set()
    kinds = r.choices(KINDS, weights=MIXES[mix], k=n)
    lines: dict[str, list[BankLine]] = {fmt: [] for fmt in FORMATS}
    truth, kinds_of, format_of = {}, {}, {}
    opening_customers = [c for c, items in openings.items() if items]

    start = {None: 0}  # where the search of a list for an unused invoice resumes (it only moves forward)

    def take(customer_id=None, count=1):
        candidates = by_customer[customer_id] if customer_id else pool
        picked = []
        begin = start.get(customer_id, 0)
        while begin < len(candidates) and candidates[begin].pk in used:
            begin += 1
        start[customer_id] = begin
        for invoice in candidates[begin:]:
            if invoice.pk not in used:
                picked.append(invoice)
                used.add(invoice.pk)
                if len(picked) == count:
                    break
        return picked if len(picked) == count else None

    for index, kind in enumerate(kinds):
        fmt = FORMATS[index % len(FORMATS)]
        style = r.choice(STYLES[fmt])
        ref = f"BNK{index:07d}"
        remittance, payer_account = "", ""
        if kind == "unknown":
            amount = Decimal(r.randint(1_000, 500_000)) * CENT
            payer = f"{r.choice(['Nordic', 'Pacific', 'Alpine', 'Metro'])} {r.choice(['Trading', 'Logistics'])} Ltd"
            line = BankLine(PAID, amount, "EUR", payer, "", r.choice(["", "PAYMENT", "SEPA transfer"]), ref, style=style)
            lines[fmt].append(line)
            truth[ref], kinds_of[ref], format_of[ref] = [], kind, fmt
            continue
        if kind == "opening":
            if not opening_customers:
                continue
            customer = r.choice(opening_customers)
            item = openings[customer].pop()
            if not openings[customer]:
                opening_customers.remove(customer)
            payer = payer_variant(r, names[customer])
            remittance = r.choice([item.document_number, f"Legacy invoice {item.document_number}", ""])
            if r.random() < 0.5:
                payer_account = accounts.get(customer, "")
            lines[fmt].append(BankLine(PAID, item.original_amount, "EUR", payer, payer_account, remittance, ref,
                                       style=style))
            truth[ref], kinds_of[ref], format_of[ref] = [(-item.pk, item.original_amount)], kind, fmt
            continue
        taken = take()
        if taken is None:
            break
        first = taken[0]
        customer = first.customer_id
        payer = payer_variant(r, names[customer])
        if kind == "account_amount" or (kind not in ("name_amount",) and r.random() < 0.5):
            payer_account = accounts.get(customer, "")
        if kind == "name_amount":
            payer_account = ""
        picked = [first]
        if kind in ("multi", "combination"):
            more = take(customer, r.randint(1, 2 if kind == "combination" else 3))
            if more:
                picked += more
        amount = sum((i.gross_total for i in picked), Decimal(0))
        allocation = [(i.pk, i.gross_total) for i in picked]
        if kind in ("clean", "short", "over", "partial"):
            remittance = number_variant(r, first.number, "clean")
        elif kind == "tagged":
            remittance = number_variant(r, first.number, "tagged")
        elif kind == "noprefix":
            remittance = number_variant(r, first.number, "noprefix")
        elif kind == "typo":
            remittance = number_variant(r, first.number, "typo")
        elif kind == "typo_trap":
            # a one-digit slip that lands on ANOTHER customer's open invoice of the same amount
            # (the issue's wrong applications): the payer is often unknown to the bank file
            twins = [i for i in by_amount.get(first.gross_total, []) if i.customer_id != customer and i.pk not in used]
            if twins:
                twin = twins[0]
                remittance = number_variant(r, twin.number, "typo")
            else:
                remittance = number_variant(r, first.number, "typo")
            if r.random() < 0.5:
                payer, payer_account = "", ""
        elif kind == "multi":
            remittance = " ".join(number_variant(r, i.number, r.choice(["clean", "noprefix"])) for i in picked)
        if kind == "short":
            fee = Decimal(r.choice(["7.50", "15.00", "25.00"]))
            amount -= fee
            allocation = [(first.pk, first.gross_total - fee)]
        elif kind == "over":
            amount += Decimal(r.choice(["100.00", "250.00"]))
        elif kind == "partial":
            amount = (first.gross_total / 2).quantize(CENT)
            allocation = [(first.pk, amount)]
        lines[fmt].append(BankLine(PAID, amount, "EUR", payer, payer_account, remittance, ref, style=style))
        truth[ref], kinds_of[ref], format_of[ref] = allocation, kind, fmt
        if not (payer or payer_account):
            NO_PAYER.add(ref)
    return lines, truth, kinds_of, format_of


def make_openings(customers: list, entity, share: float = 0.05) -> dict[int, list]:
    """Opening balances migrated from the previous system (LEG-<account>-<n>) for some customers."""
    r = random.Random(5)
    chosen = [c for c in customers if r.random() < share]
    specs, out = [], {}
    for c in chosen:
        amount = Decimal(r.randint(100_000, 3_000_000)) * CENT
        number = f"LEG-{c.account_number}-1"
        specs.append(EntrySpec(currency="EUR", source_reference=number, lines=[
            LineSpec(amount=amount, role="ar", customer_id=c.pk,
                     open_item=OpenItemSpec("opening", number, ISSUED - dt.timedelta(days=200),
                                            ISSUED - dt.timedelta(days=170))),
            LineSpec(amount=-amount, role="opening_balance")]))
    if specs:
        for c, entry in zip(chosen, journal_post_batch(legal_entity_id=entity.pk, kind="opening",
                                                       document_date=ISSUED, by=None, entries=specs), strict=True):
            out[c.pk] = list(entry.opened_items)
    return out


def setup(args, users) -> None:
    """Customers, open invoices, opening balances, known payer accounts and the four bank accounts."""
    entity = next(e for e in seed_entities() if e.code == "DE01")
    Period.objects.bulk_create([Period(legal_entity=entity, year=2026, month=m) for m in range(1, 13)],
                               ignore_conflicts=True)  # postings never create periods
    started = time.perf_counter()
    with transaction.atomic():
        customers = seed_customers(count=max(500, args.invoices // 50), owners=[users["sales1"]], by=users["billing"])
        invoices = make_invoices(args.invoices, customers, entity)
        openings = make_openings(customers, entity)
        r = random.Random(3)
        accounts = {c.pk: f"DE{r.randint(10**19, 10**20 - 1)}" for c in customers if r.random() < 0.4}
        PayerAlias.objects.bulk_create([PayerAlias(kind="account", value=v, customer_id=k) for k, v in accounts.items()])
    for number, fmt in enumerate(FORMATS):  # a durable entry point: outside the set-up's transaction
        bank_account_create(legal_entity_id=entity.pk, name=f"Operating EUR {fmt}", account_number=_iban(number),
                            currency="EUR", by=users["controller"])
    print(f"{'set-up: customers and open invoices (bulk)':<52} {time.perf_counter() - started:8.2f} s  "
          f"{len(invoices):,} invoices, {len(customers):,} customers, {sum(map(len, openings.values())):,} opening items")


def _iban(number: int) -> str:
    return f"DE1250010517064848989{number}"


def load():
    """What the set-up wrote, read back in the order it was written (the receipts' truth depends on it)."""
    from customers.models import Customer
    from ledger.models import OpenItem

    invoices = list(Invoice.objects.order_by("pk"))
    names = dict(Customer.objects.order_by("pk").values_list("pk", "legal_name"))
    accounts = dict(PayerAlias.objects.filter(kind="account").order_by("pk").values_list("customer_id", "value"))
    openings: dict[int, list] = {}
    for item in OpenItem.objects.filter(document_type="opening").order_by("pk"):
        openings.setdefault(item.customer_id, []).append(item)
    return invoices, names, accounts, openings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--mix", choices=sorted(MIXES), default="default",
                        help="the proportions of the kinds of receipt (the same noise, other proportions)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the customers and invoices of an earlier run (the imports are rolled back "
                             "at the end of every run, so runs can be repeated)")
    parser.add_argument("--show", action="append", default=[], choices=KINDS,
                        help="print receipts of this kind left for a person whose top suggestion is not the truth")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the imports")
    parser.add_argument("--profile-out", metavar="FILE", help="with --profile: also write the raw stats to FILE "
                                                               "(read with pstats, any sort order)")
    args = parser.parse_args()
    ensure_database()
    call_command("migrate", verbosity=0)
    reuse = args.reuse and Invoice.objects.exists()
    if not reuse:
        with connection.cursor() as cursor:  # issued documents refuse TRUNCATE unless the session says so
            cursor.execute("SET otc.allow_truncate = 'on'")
        call_command("flush", "--noinput", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("RESET otc.allow_truncate")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}  mix: {args.mix}"
          f"{'  (set-up reused)' if reuse else ''}")
    ensure_roles()
    users = seed_users()
    seed_fx_rates(year=2026)
    dates.today = lambda: PAID  # the statement's day
    if not reuse:
        setup(args, users)
    invoices, names, accounts, openings = load()
    lines, truth, kinds, formats = make_receipts(args.receipts, invoices, names, accounts, openings, args.mix)
    # the set-up's 200,000 invoice objects are not the import's: a worker importing a file does not hold
    # them, and every full pass of the garbage collector during the imports walked them (4-5 s of CPU)
    del invoices, openings
    gc.collect()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    # one transaction rolled back at the end (--reuse runs again on the same open invoices); not an
    # atomic block, because the import is a durable entry point that refuses to be nested in one
    connection.set_autocommit(False)
    try:
        seconds = run_imports(lines, users, profiler)
        print(f"{'import, match and apply (all files)':<52} {seconds:8.2f} s  {len(truth):,} receipts "
              f"({len(truth) / seconds:,.0f}/s)")
        contents = {line.bank_reference: (line.amount.quantize(CENT), " ".join(line.payer_name.split()),
                                          " ".join(line.remittance.split()))
                    for fmt_lines in lines.values() for line in fmt_lines if line.style == "short"}
        report(truth, kinds, formats, contents, show=tuple(args.show), names=names)
        print(f"{'peak RSS':<52} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")
        assert all(row["difference"] == 0 for row in ar_reconciliation()), "AR control != open items"
    finally:
        connection.rollback()
        connection.set_autocommit(True)
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        if args.profile_out:
            profiler.dump_stats(args.profile_out)


def run_imports(lines: dict, users: dict, profiler=None) -> float:
    """Each format's file through the real import; the seconds they took together."""
    seconds = cpu = 0.0

    def timed(**kwargs):
        nonlocal seconds, cpu
        begun, ticks = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        run = statement_import(by=users["cashapp"], **kwargs)
        if profiler is not None:
            profiler.disable()
        took = time.perf_counter() - begun
        seconds += took
        cpu += time.process_time() - ticks
        print(f"{'import, match and apply ' + kwargs['file_name']:<52} {took:8.2f} s  {run.receipts_created:,} receipts",
              flush=True)

    for number, fmt in enumerate(FORMATS):
        iban = _iban(number)
        if not lines[fmt]:
            continue
        statement = BankStatementFile(account_number=iban, currency="EUR", day=PAID, statement_id=f"B{number}",
                                      opening_balance=Decimal(0), lines=lines[fmt])
        if fmt == "csv":  # two exports: one with every column, one with only date, amount, name and details
            short = [line for line in lines[fmt] if line.style == "short"]
            statement.lines = [line for line in lines[fmt] if line.style != "short"]
            if short:
                extra = BankStatementFile(account_number=iban, currency="EUR", day=PAID, statement_id="B9",
                                          opening_balance=Decimal(0), lines=short)
                timed(data=write_csv_short(extra), file_name="short.csv", csv_mapping=csv_short_mapping(iban))
            timed(data=write_csv(statement), file_name="bench.csv", csv_mapping=csv_mapping(iban))
        else:
            timed(data=write_statement(fmt, statement), file_name=f"bench.{fmt}", csv_mapping=None)
    load = os.getloadavg()[0]
    print(f"{'  of which CPU of this process (the database not counted)':<52} {cpu:8.2f} s  load average {load:.1f} "
          f"on {os.cpu_count()} cores")
    return seconds


def _key(invoice_id, open_item_id) -> int:
    return invoice_id if invoice_id else -open_item_id


def report(truth: dict, kinds: dict, formats: dict, contents: dict, show: tuple = (), names: dict | None = None) -> None:
    """Per format and per kind: receipts of known payers applied automatically, wrongly applied, and
    for what is left the top stored suggestion right."""
    # a CSV without a transaction id gets hashed references: find each one's line by what it carries
    by_content = {key: ref for ref, key in contents.items()}
    rename = {}
    for bank_ref, amount, payer, remittance in Receipt.objects.filter(bank_reference__startswith="H-").values_list(
            "bank_reference", "amount", "payer_name", "remittance"):
        rename[bank_ref] = by_content.get((Decimal(amount).quantize(CENT), " ".join(payer.split()),
                                           " ".join(remittance.split())), bank_ref)
    applied: dict[str, list] = {}
    for ref, invoice_id, item_id, amount in (ReceiptApplication.objects.filter(reversed_at__isnull=True)
                                             .values_list("receipt__bank_reference", "invoice_id", "open_item_id",
                                                          "amount")):
        applied.setdefault(rename.get(ref, ref), []).append((_key(invoice_id, item_id), amount))
    stored = {rename.get(ref, ref): (suggestions or [])
              for ref, suggestions in Receipt.objects.values_list("bank_reference", "suggestions")}
    by_ref = {rename.get(ref, ref): customer for ref, customer in Receipt.objects.values_list("bank_reference",
                                                                                               "customer_id")}
    wrong = {ref for ref, allocation in applied.items() if sorted(allocation) != sorted(truth.get(ref, []))}

    def top_right(ref: str) -> bool:
        top = next((s for s in stored.get(ref, []) if s.get("allocations")), None)
        if top is None:
            return False
        return sorted((a["invoice_id"], Decimal(a["amount"])) for a in top["allocations"]) == sorted(truth[ref])

    def line(label: str, refs: list[str]) -> str:
        # known payers: the line names a customer (by name or account); a line without a payer, or an
        # unknown one, should apply nothing, and its top suggestion cannot be known to be right
        known = [ref for ref in refs if kinds[ref] != "unknown" and ref not in NO_PAYER]
        auto = [ref for ref in known if ref in applied]
        left = [ref for ref in known if ref not in applied]
        right = sum(top_right(ref) for ref in left)
        identified = sum(1 for ref in left if by_ref.get(ref))
        return (f"    {label:<22} {len(refs):6,} known {len(known):6,}  auto {len(auto) / max(len(known), 1):6.1%}  "
                f"wrong {sum(ref in wrong for ref in refs):3}  left {len(left):5,}  top right "
                f"{right / max(len(left), 1):6.1%}  out of suspense {identified / max(len(left), 1):6.1%}")

    def without(label: str, refs: list[str]) -> str:
        nobody = [ref for ref in refs if kinds[ref] == "unknown" or ref in NO_PAYER]
        done = [ref for ref in nobody if ref in applied]
        right = sum(top_right(ref) for ref in nobody if ref not in applied and truth[ref])
        return (f"    {label:<22} {len(nobody):6,}  applied {len(done):4,} (right {len(done) - len(wrong & set(done)):,})"
                f"  wrong {len(wrong & set(nobody)):3}  top suggestion the truth {right:,}")

    refs = list(truth)
    print("receipts of known payers (the line names a customer by name or account):")
    print(line("all", refs))
    print("  per format")
    for fmt in FORMATS:
        print(line(fmt, [ref for ref in refs if formats[ref] == fmt]))
    print("  per kind")
    for kind in KINDS:
        if kind != "unknown":
            print(line(kind, [ref for ref in refs if kinds[ref] == kind]))
    print("receipts without a known payer (nothing should be applied; 'wrong' counts any application "
          "but the truth):")
    print(without("all", refs))
    for fmt in FORMATS:
        print(without(fmt, [ref for ref in refs if formats[ref] == fmt]))
    print(without("typo trap, no payer", [ref for ref in refs if kinds[ref] == "typo_trap"]))
    print(without("unknown payer", [ref for ref in refs if kinds[ref] == "unknown"]))
    for kind in show:
        left = [ref for ref in refs if kinds[ref] == kind and ref not in applied and not top_right(ref)][:12]
        for ref in left:
            receipt = Receipt.objects.filter(bank_reference=ref).first()
            top = next((s for s in stored.get(ref, []) if s.get("allocations")), None)
            owner = Invoice.objects.filter(pk__in=[k for k, _ in truth[ref] if k > 0]).values_list("customer_id",
                                                                                                  flat=True).first()
            print(f"  left {kind} {formats[ref]}: payer={getattr(receipt, 'payer_name', '?')!r} "
                  f"account={getattr(receipt, 'payer_account', '?')!r} remittance={getattr(receipt, 'remittance', '?')!r} "
                  f"amount={getattr(receipt, 'amount', '?')} truth={truth[ref]} (customer {owner}, "
                  f"{names.get(owner)!r})")
            for s in stored.get(ref, [])[:3]:
                print(f"      {s.get('score')} c{s.get('customer_id')} auto={s.get('auto')} "
                      f"{[(a['invoice_id'], a['amount']) for a in s.get('allocations', [])]} {s.get('rules')} "
                      f"{s.get('reasons')}")
            if top is None:
                print("      (no suggestion with invoices)")
    for ref in sorted(wrong)[:8]:
        receipt = Receipt.objects.get(bank_reference=ref)
        print(f"  wrong: {ref} {kinds.get(ref)} {formats.get(ref)} remittance={receipt.remittance!r} "
              f"payer={receipt.payer_name!r} truth={truth.get(ref)} applied={applied[ref]}")


if __name__ == "__main__":
    main()
