"""Billing-run page helpers: a signed-in role and a generated run with drafts, held drafts and
exceptions (tests/billing/test_views_runs*.py)."""

from __future__ import annotations

import datetime as dt

from billing.models import BillingException, BillingRun, Invoice
from otc.models import User
from tests.factories.billing import de_entity, draft
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

MARCH = dt.date(2026, 3, 1)


def login(client, role: str) -> User:
    user = user_with_role(role)
    client.force_login(user)
    return user


def generated_run(drafts: int = 3, held: int = 1, exceptions: int = 0) -> BillingRun:
    """A run whose drafts are ready: `drafts` to issue, `held` on hold, `exceptions` rows."""
    entity = de_entity()
    run = BillingRun.objects.create(period_start=MARCH, status=BillingRun.Status.GENERATED, contracts_total=drafts + held,
                                    contracts_done=drafts + held, invoices_created=drafts + held,
                                    finished_at=dt.datetime(2026, 3, 1, 6, tzinfo=dt.UTC))
    ids = [draft(entity).pk for _ in range(drafts + held)]
    Invoice.objects.filter(pk__in=ids).update(billing_run=run)
    Invoice.objects.filter(pk__in=ids[drafts:]).update(on_hold=True, hold_reason="PO missing")
    customer = CustomerFactory(legal_name="Ausnahme GmbH")
    BillingException.objects.bulk_create([
        BillingException(run=run, customer=customer, code="missing_tax_id", severity="warning",
                         message=f"Exception {n}") for n in range(exceptions)])
    return run
