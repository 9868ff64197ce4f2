"""Demo legal entities, charts, periods, FX rates and approval limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group
from simple_history.utils import bulk_create_with_history

from ledger.models import FxRate, LegalEntity, Period
from ledger.services.chart import chart_create_default
from ledger.services.periods import periods_open_ahead
from otc import roles
from otc.models import ApprovalLimit, User
from otc.services import record_status_change

ENTITIES = [
    {"code": "US01", "name": "otc Inc.", "legal_name": "otc Software Inc.", "address_line1": "500 Market Street, Suite 1200",
         "city": "San Francisco", "region": "CA", "postal_code": "94105", "country": "US", "tax_id": "94-3276543",
         "functional_currency": "USD", "invoice_prefix": "US-INV", "credit_note_prefix": "US-CN", "email": "ar-us@otc.example", "phone": "+1 415 555 0100",
         "bank_name": "First Republic Trust", "bank_account_name": "otc Software Inc.", "bank_account_number": "000123456789",
         "bank_routing_number": "121000248", "einvoice_endpoint": "0060:943276543",
         "remittance_note": "Pay by ACH or wire to the account below. Quote the invoice number in the payment reference."},
    {"code": "DE01", "name": "otc GmbH", "legal_name": "otc Software GmbH", "address_line1": "Friedrichstraße 68",
         "city": "Berlin", "postal_code": "10117", "country": "DE", "tax_id": "DE136695976", "registration_number": "HRB 212345 B",
         "functional_currency": "EUR", "invoice_prefix": "DE-RE", "credit_note_prefix": "DE-GS", "email": "ar-de@otc.example", "phone": "+49 30 5550 1000",
         "bank_name": "Commerzbank AG", "bank_account_name": "otc Software GmbH", "iban": "DE89370400440532013000",
         "bic": "COBADEFFXXX", "einvoice_endpoint": "9930:DE136695976",
         "remittance_note": "Bitte überweisen Sie unter Angabe der Rechnungsnummer. Please quote the invoice number."},
    {"code": "GB01", "name": "otc Ltd", "legal_name": "otc Software Ltd", "address_line1": "1 Finsbury Avenue",
         "city": "London", "postal_code": "EC2M 2PF", "country": "GB", "tax_id": "GB980780684", "registration_number": "12345678",
         "functional_currency": "GBP", "invoice_prefix": "GB-INV", "credit_note_prefix": "GB-CN", "email": "ar-uk@otc.example", "phone": "+44 20 7946 0100",
         "bank_name": "Barclays Bank plc", "bank_account_name": "otc Software Ltd", "iban": "GB33BUKB20201555555555",
         "bic": "BUKBGB22", "bank_account_number": "55555555", "bank_routing_number": "20-20-15",
         "einvoice_endpoint": "9932:GB980780684",
         "remittance_note": "Pay by BACS to the account below quoting the invoice number."},
]

# Month-end rates to USD for 2026 (deterministic, plausible).
USD_RATES = {
    "EUR": [Decimal("1.0850"), Decimal("1.0790"), Decimal("1.0820"), Decimal("1.0910"), Decimal("1.0880"),
            Decimal("1.0950"), Decimal("1.1020"), Decimal("1.0990"), Decimal("1.1050"), Decimal("1.1010"),
            Decimal("1.0970")],
    "GBP": [Decimal("1.2710"), Decimal("1.2650"), Decimal("1.2690"), Decimal("1.2760"), Decimal("1.2800"),
            Decimal("1.2840"), Decimal("1.2910"), Decimal("1.2870"), Decimal("1.2930"), Decimal("1.2890"),
            Decimal("1.2850")],
    "JPY": [Decimal("0.006680"), Decimal("0.006710"), Decimal("0.006650"), Decimal("0.006590"), Decimal("0.006620"),
            Decimal("0.006700"), Decimal("0.006740"), Decimal("0.006690"), Decimal("0.006720"), Decimal("0.006760"),
            Decimal("0.006730")],
    "CAD": [Decimal("0.7390")] * 11,
    "AUD": [Decimal("0.6610")] * 11,
    "CHF": [Decimal("1.1350")] * 11,
    "SEK": [Decimal("0.0955")] * 11,
    "KWD": [Decimal("3.2520")] * 11,
}

LIMITS = {
    # kind: {role: max amount in USD-equivalent units; the same figure is set per currency}
    ApprovalLimit.Kind.CONTRACT: {roles.CONTRACT_REVIEWER: 100_000, roles.FINANCE_MANAGER: 500_000,
                                   roles.CONTROLLER: 5_000_000},
    ApprovalLimit.Kind.CREDIT_NOTE: {roles.BILLING_SPECIALIST: 1_000, roles.FINANCE_MANAGER: 25_000,
                                      roles.CONTROLLER: 250_000},
    ApprovalLimit.Kind.WRITE_OFF: {roles.COLLECTOR: 500, roles.FINANCE_MANAGER: 10_000, roles.CONTROLLER: 100_000},
    ApprovalLimit.Kind.RESERVE: {roles.CONTROLLER: 10_000_000},
    # Releasing a held draft of a customer on credit hold extends credit (billing/services/invoices.py).
    ApprovalLimit.Kind.CREDIT_RELEASE: {roles.FINANCE_MANAGER: 100_000, roles.CONTROLLER: 5_000_000},
}
LIMIT_CURRENCIES = {"USD": 1, "EUR": 1, "GBP": 1, "JPY": 150}


def seed_entities() -> list[LegalEntity]:
    entities = []
    for data in ENTITIES:
        entity, _ = LegalEntity.objects.get_or_create(code=data["code"], defaults=data)
        chart_create_default(legal_entity=entity)
        entities.append(entity)
    return entities


def seed_periods(entities: list[LegalEntity], *, today: dt.date, controller: User) -> None:
    """Every month of this year and last, then the months the schedule opens up to the open
    horizon (postings never create periods); months before the demo's three billed months (M-3 to
    M-1) are closed. demo/billing.py closes M-3 and M-2 through the close service once billed."""
    first_billed = today.replace(day=1)
    for _ in range(3):
        first_billed = (first_billed - dt.timedelta(days=1)).replace(day=1)
    for entity in entities:
        for year in (today.year - 1, today.year):
            for month in range(1, 13):
                period, created = Period.objects.get_or_create(legal_entity=entity, year=year, month=month)
                if created and dt.date(year, month, 1) < first_billed:
                    period.status, period.closed_by = Period.Status.CLOSED, controller
                    period.closed_at = dt.datetime.combine(period.end + dt.timedelta(days=8), dt.time(17), tzinfo=dt.UTC)
                    period.save()
                    record_status_change(period, by=controller, from_state="open", note="Month-end close")
    periods_open_ahead(by=None, today=today)  # what the month-end schedule keeps open (the open horizon)


def seed_fx_rates(*, year: int) -> None:
    rows = []
    for currency, rates in USD_RATES.items():
        for month, rate in enumerate(rates, start=1):
            rows.append(FxRate(date=dt.date(year, month, 1), from_currency=currency, to_currency="USD", rate=rate,
                               source="ECB reference (demo)"))
        for month, (eur, other) in enumerate(zip(USD_RATES["EUR"], rates, strict=True), start=1):
            if currency != "EUR":
                rows.append(FxRate(date=dt.date(year, month, 1), from_currency=currency, to_currency="EUR",
                                   rate=(other / eur).quantize(Decimal("1e-8")), source="ECB reference (demo)"))
        for month, (gbp, other) in enumerate(zip(USD_RATES["GBP"], rates, strict=True), start=1):
            if currency != "GBP":
                rows.append(FxRate(date=dt.date(year, month, 1), from_currency=currency, to_currency="GBP",
                                   rate=(other / gbp).quantize(Decimal("1e-8")), source="ECB reference (demo)"))
    rows += [FxRate(date=dt.date(year, m, 1), from_currency="USD", to_currency=cur,
                    rate=(1 / USD_RATES[cur][m - 1]).quantize(Decimal("1e-8")), source="ECB reference (demo)")
             for cur in ("EUR", "GBP") for m in range(1, 12)]
    FxRate.objects.bulk_create(rows, ignore_conflicts=True)


def seed_approval_limits() -> None:
    """Each role's limit per kind and currency, unless that role already has one (one read of the
    existing limits and one insert with their history rows, not a get_or_create per limit)."""
    groups = {g.name: g for g in Group.objects.filter(name__in={role for by_role in LIMITS.values() for role in by_role})}
    existing = set(ApprovalLimit.objects.filter(user=None, legal_entity=None)
                   .values_list("kind", "role_id", "currency"))
    missing = [
        ApprovalLimit(kind=kind, role=groups[role], user=None, legal_entity=None, currency=currency,
                      max_amount=Decimal(amount * factor))
        for kind, by_role in LIMITS.items() for role, amount in by_role.items()
        for currency, factor in LIMIT_CURRENCIES.items() if (kind, groups[role].pk, currency) not in existing
    ]
    bulk_create_with_history(missing, ApprovalLimit, batch_size=500)
