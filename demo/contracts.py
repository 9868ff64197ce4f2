"""Demo contracts: a product catalogue, a finance policy per entity, contracts in every state
from several sales reps with the findings the assessment gives them, and a book of contracts in
force for a year or more that the demo's month-end billing runs bill (demo/billing.py)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal
from itertools import cycle

from django.utils import timezone

from contracts.models import Contract, ContractVersion, FinancePolicy, Product
from customers.models import Customer
from ledger.models import LegalEntity
from otc import dates
from otc.models import User

PRODUCTS = [
    # sku, name, unit, price (USD), revenue account, tax category
    ("PLAT-STD", "otc Platform — Standard (per seat)", "IE", "45.00", "4000", "digital"),
    ("PLAT-ENT", "otc Platform — Enterprise (per seat)", "IE", "85.00", "4000", "digital"),
    ("API-CALLS", "API calls (per 1,000)", "E48", "0.80", "4100", "digital"),
    ("STORAGE", "Document storage (per GB)", "E34", "0.25", "4100", "digital"),
    ("ONBOARD", "Onboarding package", "LS", "7500.00", "4300", "services"),
    ("IMPL-MS", "Implementation milestone", "LS", "12000.00", "4200", "services"),
    ("SUPPORT-P", "Premium support", "MON", "1500.00", "4000", "services"),
    ("TRAINING", "Training day", "DAY", "1800.00", "4200", "services"),
]
ENTITY_FOR_CURRENCY = {"USD": "US01", "JPY": "US01", "EUR": "DE01", "GBP": "GB01"}


def seed_products() -> dict[str, Product]:
    products = {}
    for sku, name, unit, price, account, tax in PRODUCTS:
        products[sku], _ = Product.objects.get_or_create(sku=sku, defaults={
            "name": name, "unit": unit, "default_price": Decimal(price), "currency": "USD",
            "revenue_account_code": account, "tax_category": tax})
    return products


def seed_policies() -> None:
    limits = {"US01": ("100000", "500000"), "DE01": ("90000", "450000"), "GB01": ("80000", "400000")}
    for entity in LegalEntity.objects.all():
        reviewer, manager = limits.get(entity.code, ("100000", "500000"))
        FinancePolicy.objects.update_or_create(legal_entity=entity, defaults={
            "standard_payment_terms_days": 30, "max_payment_terms_days": 60, "max_discount_percent": Decimal("15"),
            "reviewer_max_value": Decimal(reviewer), "manager_max_value": Decimal(manager),
            "allowed_currencies": ["USD", "EUR", "GBP", "JPY"] if entity.code == "US01" else [entity.functional_currency, "USD", "EUR"],
        })


@contextmanager
def on_day(day: dt.date):
    """Run the workflow as if on `day`: the demo's contracts were reviewed before they started,
    its runs, imports and uploads happened on their business days.

    Both clocks are pinned: `otc.dates` (what services read) and `django.utils.timezone.now`
    (what `auto_now_add` columns and the audit history stamp), so every record the step writes
    carries the day it would have happened on. Within a day the clock starts at 09:00 and moves
    on with the real time spent (never backwards, even across several steps of the same day), so
    the records keep their order."""
    original_today, original_now, original_tz_now = dates.today, dates.now, timezone.now
    started = time.monotonic()
    opening = max(dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC), _day_clock.get(day, _EPOCH))

    def now() -> dt.datetime:
        stamp = opening + dt.timedelta(seconds=time.monotonic() - started)
        _day_clock[day] = max(_day_clock.get(day, _EPOCH), stamp)
        return stamp

    dates.today, dates.now, timezone.now = (lambda: day), now, now
    try:
        yield
    finally:
        dates.today, dates.now, timezone.now = original_today, original_now, original_tz_now


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_day_clock: dict[dt.date, dt.datetime] = {}  # the latest time handed out per demo day


def _terms(r: random.Random, customer: Customer, start: dt.date, **overrides) -> dict:
    data = {
        "customer_id": customer.id, "legal_entity_id": LegalEntity.objects.get(
            code=ENTITY_FOR_CURRENCY.get(customer.default_currency, "US01")).id,
        "title": f"{customer.name} platform subscription", "currency": customer.default_currency,
        "start_date": start, "end_date": start.replace(year=start.year + r.choice([1, 1, 2, 3])) - dt.timedelta(days=1),
        "billing_frequency": r.choice(["monthly", "monthly", "quarterly", "annual"]), "billing_timing": "advance",
        "payment_terms_days": r.choice([30, 30, 30, 45, 60]), "discount_percent": Decimal(r.choice([0, 0, 5, 10])),
        "po_number": f"PO-{r.randint(100000, 999999)}" if customer.po_required else "",
        "auto_renew": r.random() < 0.5, "renewal_notice_days": 60, "prepayment_percent": Decimal(0),
    }
    return {**data, **overrides}


def _lines(r: random.Random, products: dict[str, Product], currency: str, size: int) -> list[dict]:
    factor = Decimal(150) if currency == "JPY" else Decimal(1)
    seats = r.choice([10, 25, 40, 80, 150, 300]) * size
    lines = [{"product_id": products[r.choice(["PLAT-STD", "PLAT-ENT"])].id, "kind": "recurring", "quantity": Decimal(seats),
              "unit_price": Decimal(r.choice(["45.00", "85.00"])) * factor, "description": f"{seats} seats"}]
    if r.random() < 0.6:
        lines.append({"product_id": products["API-CALLS"].id, "kind": "usage", "quantity": Decimal(1),
                      "unit_price": Decimal("0.80") * factor, "minimum_commitment": Decimal(r.choice([0, 250, 500])) * factor,
                      "description": "API calls per 1,000"})
    if r.random() < 0.5:
        lines.append({"product_id": products["ONBOARD"].id, "kind": "one_time", "quantity": Decimal(1),
                      "unit_price": Decimal("7500.00") * factor, "description": "Onboarding"})
    return lines


def _book_lines(r: random.Random, products: dict[str, Product], currency: str, new: bool) -> list[dict]:
    """Seats, sometimes premium support, and the onboarding fee for a contract that starts within
    the billed months. No usage lines: the metering feed is not connected in the demo."""
    factor = Decimal(150) if currency == "JPY" else Decimal(1)
    seats = r.choice([10, 15, 25, 40, 60, 80, 120, 200])
    sku = r.choice(["PLAT-STD", "PLAT-STD", "PLAT-ENT"])
    lines = [{"product_id": products[sku].id, "kind": "recurring", "quantity": Decimal(seats),
              "unit_price": products[sku].default_price * factor, "description": f"{seats} seats"}]
    if r.random() < 0.3:
        lines.append({"product_id": products["SUPPORT-P"].id, "kind": "recurring", "quantity": Decimal(1),
                      "unit_price": Decimal("1500.00") * factor, "description": "Premium support"})
    if new:
        lines.append({"product_id": products["ONBOARD"].id, "kind": "one_time", "quantity": Decimal(1),
                      "unit_price": Decimal("7500.00") * factor, "description": "Onboarding"})
    return lines


def book_customers(count: int) -> list[Customer]:
    """Active customers with a sales owner for the contract book, deterministic: every third a
    customer who requires a procurement portal (while there are any), the others without."""
    pool = Customer.objects.filter(status=Customer.Status.ACTIVE, sales_owner__isnull=False).order_by("id")
    portal = list(pool.exclude(procurement_portal=Customer.Portal.NONE))
    plain = list(pool.filter(procurement_portal=Customer.Portal.NONE))
    if not portal and not plain:
        return []
    portals, plains = cycle(portal), cycle(plain)
    return [next(portals if (index % 3 == 0 and portal) or not plain else plains) for index in range(count)]


def seed_contract_book(*, users: dict[str, User], today: dt.date, count: int, seed: int = 12) -> int:
    """`count` contracts in force since before the three billed months (a few starting inside
    them, mid-month, with their onboarding fee), reviewed and approved through the workflow.
    Customers on a procurement portal bill monthly. Returns the number created."""
    from contracts.services import (
        contract_create,
        contract_decide,
        contract_override_blocking,
        contract_submit,
    )

    r = random.Random(seed)
    products = seed_products()
    chain = [users["reviewer"], users["manager"], users["controller"]]
    this_month = today.replace(day=1)
    created = 0
    for index, customer in enumerate(book_customers(count)):
        months_back = r.choice([4, 5, 6, 8, 10, 12, 14]) if index % 7 else r.choice([2, 3])
        first = this_month
        for _ in range(months_back):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        start = first if months_back > 3 else first + dt.timedelta(days=r.choice([9, 14, 19]))
        portal = customer.procurement_portal != Customer.Portal.NONE
        frequency = "monthly" if portal else r.choices(["monthly", "quarterly", "annual"], weights=[70, 20, 10])[0]
        data = _terms(r, customer, start, billing_frequency=frequency, end_date=start.replace(year=start.year + r.choice([2, 3])) - dt.timedelta(days=1))
        lines = _book_lines(r, products, customer.default_currency, new=months_back <= 3)
        day = first - dt.timedelta(days=r.randint(6, 20))
        with on_day(day):
            contract = contract_create(data=data, lines=lines, by=customer.sales_owner)
            version = contract.versions.get()
            contract_submit(version_id=version.id, by=customer.sales_owner)
        with on_day(day + dt.timedelta(days=2)):
            if version.assessments.first().highest_severity == "blocking":
                contract_override_blocking(version_id=version.id, by=chain[2],
                                           reason="CFO agreed the exception for this strategic account.")
            for person in chain[:version.assessments.first().required_levels]:  # read after an override
                contract_decide(version_id=version.id, by=person, decision="approved", comment="Terms within policy.")
        created += 1
    return created


def seed_contracts(*, users: dict[str, User], today: dt.date, seed: int = 11, book: int = 0) -> dict[str, int]:
    """Contracts in every state, and `book` more in force for the billing runs. Returns counts
    by status."""
    from contracts.services import (
        contract_amend,
        contract_create,
        contract_decide,
        contract_override_blocking,
        contract_submit,
        contract_terminate,
        contracts_activate_due,
    )

    r = random.Random(seed)
    products = seed_products()
    seed_policies()
    reps = [users["sales1"], users["sales2"], users["sales3"]]
    reviewer, manager, controller = users["reviewer"], users["manager"], users["controller"]
    customers = {rep.id: list(Customer.objects.filter(sales_owner=rep, status="active").order_by("id")[:40]) for rep in reps}
    plan = ["active"] * 16 + ["draft"] * 4 + ["submitted"] * 5 + ["in_review"] * 3 + ["changes_requested"] * 3 + [
        "rejected"] * 2 + ["approved_future"] + ["high_value"] * 2

    def decide_all(version, levels=None):
        chain = [reviewer, manager, controller]
        version.refresh_from_db()
        required = version.assessments.first().required_levels if levels is None else levels
        for person in chain[:required]:
            contract_decide(version_id=version.id, by=person, decision="approved", comment="Terms within policy.")

    pending = {"draft", "submitted", "in_review", "changes_requested", "rejected", "approved_future"}
    for index, state in enumerate(plan):
        rep = reps[index % 3]
        pool = customers[rep.id]
        customer = pool[(index // 3) % len(pool)]
        if state in pending:
            start = (today.replace(day=1) + dt.timedelta(days=40)).replace(day=1)
            day = today - dt.timedelta(days=r.randint(1, 6))
        else:
            start = (today.replace(day=1) - dt.timedelta(days=r.choice([0, 31, 62, 120, 200]))).replace(day=1)
            day = start - dt.timedelta(days=r.randint(8, 20))
        overrides = {}
        if state == "changes_requested":
            overrides = {"payment_terms_days": 90, "discount_percent": Decimal("25")}
        lines = _lines(r, products, customer.default_currency, 4 if state == "high_value" else 1)
        with on_day(day):
            contract = contract_create(data=_terms(r, customer, start, **overrides), lines=lines, by=rep)
            version = contract.versions.get()
            if state == "draft":
                continue
            contract_submit(version_id=version.id, by=rep)
        with on_day(day + dt.timedelta(days=1)):
            if state == "submitted":
                continue
            if state == "in_review":
                if version.assessments.first().required_levels >= 2:
                    contract_decide(version_id=version.id, by=reviewer, decision="approved", comment="Fine from my side.")
                continue
            if state == "changes_requested":
                contract_decide(version_id=version.id, by=reviewer, decision="changes_requested",
                                comment="Net 90 and 25% discount are outside policy: ask for Net 45 and at most 15%.")
                continue
            if state == "rejected":
                contract_decide(version_id=version.id, by=reviewer, decision="rejected",
                                comment="Customer credit exposure too high for these terms.")
                continue
            version.refresh_from_db()
            if version.assessments.first().highest_severity == "blocking":
                contract_override_blocking(version_id=version.id, by=controller,
                                           reason="CFO agreed the exception for this strategic account.")
            decide_all(version)
    seed_contract_book(users=users, today=today, count=book)
    contracts_activate_due(today=today)
    # One termination and one amendment, on contracts in force since before this month (so both
    # dates fall inside the term whatever day the demo is seeded).
    first_of_month = today.replace(day=1)
    candidates = Contract.objects.filter(
        status=Contract.Status.ACTIVE, current_version__effective_date__lt=first_of_month,
        current_version__end_date__gt=today,
    ).select_related("current_version", "sales_owner").order_by("id")
    singles = [c for c in candidates[:10] if c.versions.count() == 1][:2]
    if singles:
        contract_terminate(contract_id=singles[0].id, by=controller, on=today - dt.timedelta(days=1),
                           reason="Customer exercised the termination-for-convenience clause.")
    if len(singles) > 1:
        owner = singles[1].sales_owner or reps[0]
        amendment = contract_amend(contract_id=singles[1].id, by=owner, effective_date=first_of_month)
        contract_submit(version_id=amendment.id, by=owner)
    return dict(Counter(ContractVersion.objects.values_list("status", flat=True)))
