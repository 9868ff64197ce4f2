"""The standard chart of accounts a new legal entity starts with. Accounts for later features
(deferred revenue, allowance, bad debt, FX, deposits) exist from day one so those features
arrive without changing the meaning of any account."""

from __future__ import annotations

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from ledger.models import Account, LegalEntity

A, L, E, R, X = (Account.Type.ASSET, Account.Type.LIABILITY, Account.Type.EQUITY, Account.Type.REVENUE,
                 Account.Type.EXPENSE)

STANDARD_CHART: list[tuple[str, str, str, str]] = [
    ("1000", "Bank - operating account", A, Account.Role.CASH),
    ("1100", "Accounts receivable", A, Account.Role.AR),
    ("1190", "Allowance for doubtful accounts", A, Account.Role.ALLOWANCE),
    ("1900", "Suspense", A, Account.Role.SUSPENSE),
    ("2100", "Unapplied cash", L, Account.Role.UNAPPLIED_CASH),
    ("2200", "Sales tax / VAT payable", L, Account.Role.TAX_PAYABLE),
    ("2300", "Deferred revenue", L, Account.Role.DEFERRED_REVENUE),
    ("2400", "Customer deposits", L, Account.Role.CUSTOMER_DEPOSITS),
    ("3900", "Opening balance equity", E, Account.Role.OPENING_BALANCE),
    ("4000", "Subscription revenue", R, Account.Role.REVENUE),
    ("4100", "Usage revenue", R, Account.Role.REVENUE),
    ("4200", "Professional services revenue", R, Account.Role.REVENUE),
    ("4300", "One-time fees", R, Account.Role.REVENUE),
    ("4900", "Bad-debt recoveries", R, Account.Role.BAD_DEBT_RECOVERY),
    ("6100", "Bad-debt expense", X, Account.Role.BAD_DEBT_EXPENSE),
    ("7100", "FX gains and losses", X, Account.Role.FX_GAIN_LOSS),
    ("7900", "Rounding differences", X, Account.Role.ROUNDING),
]


@transaction.atomic
def chart_create_default(*, legal_entity: LegalEntity) -> list[Account]:
    """Create the standard accounts that the entity lacks (idempotent by code)."""
    existing = set(Account.objects.filter(legal_entity=legal_entity).values_list("code", flat=True))
    new = [
        Account(legal_entity=legal_entity, code=code, name=name, type=type_, role=role)
        for code, name, type_, role in STANDARD_CHART
        if code not in existing
    ]
    # One insert for the accounts and one for their history rows (the same history user and date as
    # save() would record: django-simple-history takes both from the request or the instance).
    return bulk_create_with_history(new, Account) if new else []
