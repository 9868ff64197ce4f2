"""Synthetic open invoices and receipts with known truth, for the matching tests and the benchmark.

Deterministic for a seed. Invoices: customers with legal-form names in several countries, a
quarter of amounts from standard fees (so equal amounts are common), numbers
``<prefix>-<year>-<6-digit sequence>`` interleaved across customers. Receipts: a realistic mix of
clean and sloppy references, missing references, typos, one payment for several invoices, short,
partial and over payments, payers known by account, by name only, or not at all, and payments that
are not for us. Pure Python: a database-backed benchmark loads the same objects into tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .types import OpenInvoice, ReceiptFacts

ENTITY_ID, PREFIX, CURRENCY = 1, "US01-INV", "USD"
_FIRST = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent", "Hooli", "Vandelay", "Pied", "Piper", "Massive", "Dynamic", "Oscorp", "Gringotts", "Monarch", "Nakatomi", "Virtucon", "Duff", "Krusty", "Sirius", "Aperture", "Black", "Mesa", "Blue", "Sun", "Zorg", "Weyland", "Yutani", "Rekall", "Octan", "Spacely", "Cogswell", "Gekko", "Bluth", "Dunder", "Mifflin", "Prestige", "Worldwide", "Müller", "Schäfer", "Köhler", "Weiß", "Becker", "Hoffmann", "Dubois", "Lefèvre", "Rossi", "Bianchi", "García", "Martínez", "Jansen", "Visser", "Nieminen", "Larsson", "Nielsen", "Kowalski", "Nowak", "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas"]
_SECOND = ["Industries", "Holdings", "Systems", "Logistics", "Foods", "Analytics", "Partners", "Labs", "Trading", "Energy", "Capital", "Consulting", "Software", "Robotics", "Pharma", "Textiles", "Media", "Motors", "Farms", "Engineering", "Metals", "Chemicals", "Retail", "Shipping", "Telecom", "Insurance", "Foods", "Water", "Brewing", "Aviation", "Security", "Hotels", "Medical", "Paper", "Glass"]
_FORMS = {"US": ["Inc.", "LLC", "Corp.", "Inc", "Corporation"], "GB": ["Ltd", "Limited", "PLC"],
          "DE": ["GmbH", "AG", "GmbH & Co. KG", "KG"], "FR": ["SARL", "SAS", "S.A."], "NL": ["B.V.", "N.V."],
          "IT": ["S.p.A.", "S.r.l."], "ES": ["S.L.", "S.A."], "FI": ["Oy", "Oyj"], "SE": ["AB"], "NO": ["AS"],
          "DK": ["ApS", "A/S"], "PL": ["Sp. z o.o."], "AU": ["Pty Ltd"]}
_FEES = [Decimal(x) for x in ("250.00", "500.00", "990.00", "1000.00", "1500.00", "2500.00", "4990.00", "12000.00")]


@dataclass(frozen=True)
class Truth:
    kind: str
    customer_id: int | None
    invoice_ids: frozenset[int]


@dataclass
class Scenario:
    invoices: list[OpenInvoice]
    names: dict[int, str]
    accounts: dict[str, list[int]]
    aliases: dict[str, list[int]]
    receipts: list[ReceiptFacts] = field(default_factory=list)
    truth: dict[int, Truth] = field(default_factory=dict)


def _bank_name(rng: random.Random, name: str) -> str:
    """How a bank shows a payer: upper case, umlauts spelled out, legal form dropped or kept, cut."""
    out = name
    roll = rng.random()
    if roll < 0.4:
        out = out.upper().replace("Ü", "UE").replace("Ö", "OE").replace("Ä", "AE").replace("ẞ", "SS")
    elif roll < 0.6:
        out = out.replace(",", "").replace(".", "")
    elif roll < 0.75:
        out = " ".join(w for w in out.split() if w.rstrip(".,") not in {f for fs in _FORMS.values() for f in fs})
    if rng.random() < 0.15:
        out = out[:22]
    return out.strip()


def generate(*, invoices: int = 20_000, receipts: int = 2_000, seed: int = 7, today: date = date(2026, 6, 30)) -> Scenario:
    rng = random.Random(seed)
    n_customers = max(20, invoices // 10)
    names: dict[int, str] = {}
    used: set[str] = set()
    cid = 0
    while len(names) < n_customers:
        country = rng.choice(list(_FORMS))
        base = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
        if rng.random() < 0.3:
            base = f"{base} {rng.choice(_SECOND)}"
        if base in used:
            continue
        used.add(base)
        cid += 1
        names[cid] = f"{base}{',' if rng.random() < 0.2 else ''} {rng.choice(_FORMS[country])}"
    accounts: dict[str, list[int]] = {}
    account_of: dict[int, str] = {}
    for customer in names:
        account = f"US{rng.randrange(10**9, 10**10)}{customer:05d}"
        account_of[customer] = account
        if rng.random() < 0.7:  # seen on an earlier applied receipt
            accounts[account] = [customer]
    aliases: dict[str, list[int]] = {}
    # invoices, numbered in issue order across customers
    drafts = []
    start = today - timedelta(days=365)
    for _ in range(invoices):
        customer = rng.randint(1, n_customers)
        issued = start + timedelta(days=rng.randrange(365))
        if rng.random() < 0.25:
            amount = rng.choice(_FEES)
        else:
            amount = Decimal(rng.randrange(5_000, 2_000_000)) / 100
        drafts.append((issued, customer, amount))
    drafts.sort(key=lambda d: d[0])
    seq_by_year: dict[int, int] = {}
    open_invoices = []
    by_customer: dict[int, list[OpenInvoice]] = {}
    for i, (issued, customer, amount) in enumerate(drafts, start=1):
        seq = seq_by_year[issued.year] = seq_by_year.get(issued.year, 0) + 1
        inv = OpenInvoice(i, f"{PREFIX}-{issued.year}-{seq:06d}", customer, ENTITY_ID, CURRENCY, amount, amount,
                          issued + timedelta(days=30), issued)
        open_invoices.append(inv)
        by_customer.setdefault(customer, []).append(inv)
    scenario = Scenario(open_invoices, names, accounts, aliases)
    taken: set[int] = set()
    kinds = [("clean", 40), ("sloppy", 14), ("no_ref", 12), ("typo", 7), ("several", 9), ("short", 4),
             ("partial", 3), ("over", 3), ("unknown_payer", 5), ("not_ours", 3)]
    population = [k for k, w in kinds for _ in range(w)]
    rid = 0
    while len(scenario.receipts) < receipts:
        kind = rng.choice(population)
        customer = rng.randint(1, n_customers)
        mine = [inv for inv in by_customer.get(customer, []) if inv.id not in taken]
        if not mine and kind != "not_ours":
            continue
        rid += 1
        # who the bank says paid
        payer_name, payer_account = _bank_name(rng, names[customer]), account_of[customer]
        roll = rng.random()
        if kind in ("unknown_payer", "not_ours"):
            payer_name = rng.choice(["PAYMENT", "TRANSFER", f"{rng.choice(_FIRST)} Services Ltd", "J SMITH"])
            payer_account = f"XX{rng.randrange(10**12)}"
        elif roll < 0.1:  # a new account and a learned alias
            alias = f"{' '.join(names[customer].split()[:2]).upper()} AP DEPT"
            aliases.setdefault(alias, [])
            if customer not in aliases[alias]:
                aliases[alias].append(customer)
            payer_name, payer_account = alias, f"NEW{rng.randrange(10**12)}"
        elif roll < 0.3:  # a new account: the name alone
            payer_account = f"NEW{rng.randrange(10**12)}"
        if kind == "not_ours":
            amount = Decimal(rng.randrange(1_000, 500_000)) / 100
            scenario.receipts.append(ReceiptFacts(rid, ENTITY_ID, CURRENCY, amount, today, payer_name, payer_account,
                                                  rng.choice(["REFUND", "", "SUPPLIER CREDIT 2026-04-01", "INTEREST"])))
            scenario.truth[rid] = Truth(kind, None, frozenset())
            continue
        if kind == "several":
            chosen = rng.sample(mine, min(len(mine), rng.randint(2, 4)))
        else:
            chosen = [rng.choice(mine)]
        taken.update(inv.id for inv in chosen)
        due = sum((inv.open_amount for inv in chosen), Decimal(0))
        amount = due
        if kind == "short":
            amount = due - min(Decimal(rng.choice(["7.50", "15.00", "25.00"])), (due * Decimal("0.015")).quantize(Decimal("0.01")))
        elif kind == "partial":
            amount = (due * Decimal(rng.choice(["0.5", "0.25", "0.4"]))).quantize(Decimal("0.01"))
        elif kind == "over":
            amount = due + Decimal(rng.choice(["100.00", "35.20", "1000.00"]))
        refs = [_reference(rng, inv.number, kind) for inv in chosen]
        if kind in ("no_ref", "unknown_payer") or (kind == "several" and rng.random() < 0.4):
            refs = []
        noise = rng.choice(["", "", f" PO 4500{rng.randrange(100000, 999999)}", " THANK YOU", " 2026-05-31"])
        remittance = ("PAYMENT " + " ".join(refs) + noise).strip() if refs else rng.choice(["", "PAYMENT", "SEPA CT"]) + noise
        scenario.receipts.append(ReceiptFacts(rid, ENTITY_ID, CURRENCY, amount, today, payer_name, payer_account,
                                              remittance))
        scenario.truth[rid] = Truth(kind, customer, frozenset(inv.id for inv in chosen))
    return scenario


def _reference(rng: random.Random, number: str, kind: str) -> str:
    prefix, year, seq = number.rsplit("-", 2)
    if kind == "typo":
        digits = list(seq)
        what = rng.choice(["swap", "drop", "change"])
        i = rng.randrange(2, 5)
        if what == "swap":
            while digits[i] == digits[i + 1] and i > 0:
                i -= 1
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        elif what == "drop":
            j = next((k for k in range(6) if digits[k] != "0"), 5)
            del digits[max(j, i)]
        else:
            digits[5] = str((int(digits[5]) + rng.randint(1, 9)) % 10)
        return f"{prefix}-{year}-{''.join(digits)}"
    if kind == "sloppy":
        short = str(int(seq))
        return rng.choice([
            f"INV-{year}-{short}", f"{prefix.replace('-', '')}{year}{seq}", f"{year}/{seq}", f"Inv {short}",
            seq, f"Invoice no. {year}-{short}", f"inv {year} {seq}",
        ])
    return number
