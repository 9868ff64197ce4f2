"""Credit holds: placed by the daily task with the reason, released by a Finance Manager within
the credit-release limit (never by the person who placed it) or automatically once paid; contract
review and the billing run read the hold through otc.registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from collections_app.models import CreditHold
from collections_app.services.credit_holds import (
    credit_hold_place,
    credit_hold_policy_save,
    credit_hold_release,
    credit_holds_apply,
)
from ledger.models import OpenItem
from otc.errors import LimitExceeded, PermissionDenied, SegregationOfDuties
from otc.models import ApprovalLimit
from otc.registry import credit_holds
from tests.factories.collections_dunning import customer, eu_entity, invoice
from tests.factories.ledger import post_receipt
from tests.factories.otc import role_group, user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 6, 15)  # invoices issued 2026-03-31 are due 2026-04-30: 46 days overdue


@pytest.fixture
def entity():
    made = eu_entity()
    credit_hold_policy_save(legal_entity_id=made.pk, by=None, overdue_days=45, overdue_amount=D("5000.00"))
    return made


def manager_with_limit(amount: str):
    manager = user_with_role("Finance Manager")
    ApprovalLimit.objects.get_or_create(kind="credit_release", role=role_group("Finance Manager"), currency="EUR",
                                        legal_entity=None, defaults={"max_amount": D(amount)})
    return manager


def test_daily_task_places_holds_past_the_policy_with_the_reason_and_is_idempotent(entity):
    late, big, fine = customer("Spät GmbH"), customer("Gross GmbH"), customer("Gut GmbH")
    invoice(entity, late, "100.00")                                    # 46 days overdue
    invoice(entity, big, "5000.00", issue=dt.date(2026, 5, 10))        # 5,950.00 overdue, 6 days
    invoice(entity, fine, "100.00", issue=dt.date(2026, 5, 10))

    assert credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY) == {"placed": 2, "released": 0}
    assert credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY) == {"placed": 0, "released": 0}

    holds = {h.customer_id: h for h in CreditHold.objects.all()}
    assert set(holds) == {late.pk, big.pk}
    assert holds[late.pk].reason == "oldest invoice 46 days overdue (policy: over 45)"
    assert holds[big.pk].reason == "5,950.00 EUR overdue (policy: over 5,000.00 EUR)"
    assert holds[big.pk].overdue_amount == D("5950.00")


def test_a_paid_customer_is_released_automatically(entity):
    cust = customer()
    inv = invoice(entity, cust, "100.00")
    credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY)
    post_receipt(OpenItem.objects.get(customer=cust), "119.00", date=DAY)
    assert credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY) == {"placed": 0, "released": 1}
    hold = CreditHold.objects.get()
    assert (hold.status, hold.released_by, hold.release_reason) == (
        "released", None, "Released automatically: nothing overdue any more (paid).")
    assert inv.pk


def test_release_within_the_limit_and_refusals(entity, today):
    today(DAY)
    cust = customer()
    invoice(entity, cust, "1000.00")  # 1,190.00 overdue
    credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY)
    hold = CreditHold.objects.get()

    with pytest.raises(PermissionDenied):
        credit_hold_release(hold_id=hold.pk, by=user_with_role("Collector"), reason="Promised to pay")
    with pytest.raises(LimitExceeded, match="1,190.00 EUR overdue; your credit-release limit is 1,000.00 EUR"):
        credit_hold_release(hold_id=hold.pk, by=manager_with_limit("1000.00"), reason="Promised to pay")
    hold.refresh_from_db()
    assert hold.status == "active"

    ApprovalLimit.objects.filter(kind="credit_release").update(max_amount=D("2000.00"))
    released = credit_hold_release(hold_id=hold.pk, by=user_with_role("Finance Manager"), reason="Paid by cheque")
    assert (released.status, released.release_reason) == ("released", "Paid by cheque")


def test_whoever_placed_a_hold_by_hand_may_not_release_it(entity, today):
    today(DAY)
    cust = customer()
    manager = manager_with_limit("100000")
    hold = credit_hold_place(legal_entity_id=entity.pk, customer_id=cust.pk, by=manager, reason="Insolvency rumours")
    with pytest.raises(SegregationOfDuties):
        credit_hold_release(hold_id=hold.pk, by=manager, reason="ok")


def test_registry_reader_tells_contract_review_and_billing(entity, today):
    today(DAY)
    cust = customer()
    invoice(entity, cust, "100.00")
    assert credit_holds(customer_ids=[cust.pk]) == {}
    credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY)
    assert credit_holds(customer_ids=[cust.pk]) == {
        cust.pk: "on credit hold (DE01): oldest invoice 46 days overdue (policy: over 45)"}

    from contracts.assessment import customer_exposure
    from contracts.risk_rules import credit_exposure

    exposure = customer_exposure(customer=cust, contract_currency="EUR", first_year=D("1000"), on=DAY)
    assert exposure.credit_hold.startswith("on credit hold (DE01)")

    class Ctx:  # the rule reads these three
        policy = None
    Ctx.exposure, Ctx.customer = exposure, cust
    [finding] = credit_exposure(Ctx)
    assert finding.severity == "high" and "is on credit hold (DE01)" in finding.explanation


def test_billing_release_of_a_held_draft_needs_the_credit_release_limit(entity, today):
    """Billing's hold handling reads the collections hold: releasing a held draft of a customer on
    credit hold extends credit and needs the credit-release limit."""
    from billing.services import invoice_hold, invoice_release
    from tests.factories.billing import draft

    today(DAY)
    cust = customer()
    invoice(entity, cust, "100.00")
    credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY)
    held = draft(entity, customer=cust)
    specialist = user_with_role("Billing Specialist")
    invoice_hold(invoice_id=held.pk, by=specialist, reason="Customer on credit hold")
    with pytest.raises(LimitExceeded, match="on credit hold"):
        invoice_release(invoice_id=held.pk, by=specialist, reason="Go")


def test_holds_page_lists_and_releases_and_refuses_above_the_limit(client, entity, today):
    from django.urls import reverse

    today(DAY)
    cust = customer()
    invoice(entity, cust, "1000.00")
    credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY)
    hold = CreditHold.objects.get()
    client.force_login(manager_with_limit("100.00"))
    page = client.get(reverse("collections_app:credit_holds")).content.decode()
    assert cust.legal_name in page and "oldest invoice 46 days overdue" in page
    response = client.post(reverse("collections_app:credit_hold_release", args=[hold.pk]), {"reason": "ok"}, follow=True)
    assert "your credit-release limit is 100.00 EUR" in response.content.decode()
    hold.refresh_from_db()
    assert hold.status == "active"
    client.force_login(user_with_role("Sales Rep"))
    assert client.get(reverse("collections_app:credit_holds")).status_code == 403


def test_the_billing_run_holds_the_drafts_of_a_customer_on_credit_hold(entity, django_capture_on_commit_callbacks):
    """The billing run reads collections' holds through otc.registry (no import of collections)."""
    from billing.models import BillingException
    from tests.factories.billing_run import contract, invoice_of, run

    held_customer = customer("Gehalten GmbH", tax_id="DE136695976")
    credit_hold_place(legal_entity_id=entity.pk, customer_id=held_customer.pk,
                      by=manager_with_limit("1000"), reason="Cheque bounced")
    held, free = contract(entity, cust=held_customer), contract(entity, cust=customer("Frei GmbH", tax_id="DE136695976"))
    result = run(capture=django_capture_on_commit_callbacks)
    draft = invoice_of(held)
    assert (draft.on_hold, draft.hold_reason) == (True, "Customer on credit hold (DE01): Cheque bounced")
    assert not invoice_of(free).on_hold
    assert BillingException.objects.filter(run=result, contract=held, code="customer_on_hold").exists()


def test_collections_api_hold_and_timeline_hooks(entity, today):
    """The collections API's `hold` and the customer's collections timeline come from these hooks."""
    from otc.registry import registry

    today(DAY)
    cust = customer()
    invoice(entity, cust, "100.00")
    assert [v for v in registry.call_hooks("customer_collections_hold", customer_id=cust.pk) if v] == []
    credit_holds_apply(legal_entity_id=entity.pk, as_of=DAY)
    [hold] = [v for v in registry.call_hooks("customer_collections_hold", customer_id=cust.pk) if v]
    assert hold["reason"] == "oldest invoice 46 days overdue (policy: over 45)" and hold["legal_entity"] == "DE01"
    entries = [e for batch in registry.call_hooks("collections_timeline", customer_id=cust.pk, limit=10)
               for e in batch]
    assert [(e["kind"], e["title"]) for e in entries if e["kind"] == "credit_hold"] == [
        ("credit_hold", "Put on credit hold")]
