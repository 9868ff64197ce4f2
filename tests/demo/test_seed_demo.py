import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Sum

from contracts.models import Contract, ContractVersion, Finding
from customers.models import Contact, Customer
from demo.users import DEMO_PASSWORD, DEMO_USERS
from ledger.models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem, Period
from otc.models import User
from otc.roles import HUMAN_ROLES

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("day", [None, dt.date(2027, 3, 1), dt.date(2026, 12, 31)])
def test_seed_demo_builds_a_consistent_demo_and_is_idempotent(capsys, today, day):
    # given an empty database (seeded on any day: the first of a month, a year end), when the
    # demo is seeded twice
    if day:
        today(day)
    call_command("seed_demo", customers=60)
    call_command("seed_demo", customers=60)

    # then every role has a demo user who can log in with the documented password
    for username, *_rest, role in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        if role:
            assert user.groups.filter(name=role).exists()
    assert set(HUMAN_ROLES) <= set(Group.objects.values_list("name", flat=True))

    # the second run added nothing
    assert Customer.objects.count() == 60
    assert LegalEntity.objects.count() == 3
    assert set(LegalEntity.objects.values_list("functional_currency", flat=True)) == {"USD", "EUR", "GBP"}

    # every customer passes the same validation as the edit form, and has a billing contact
    for customer in Customer.objects.all():
        customer.full_clean()
    assert Contact.objects.filter(is_billing_contact=True).values("customer").distinct().count() == 60
    assert Customer.objects.filter(sales_owner__username="sales1").exists()
    assert Customer.history.filter(history_user__username="billing").count() >= 60

    # the books balance: every entry sums to zero and AR equals the sum of open items per entity/currency
    assert JournalLine.objects.aggregate(total=Sum("functional_amount"))["total"] == 0
    ar = Account.objects.filter(role="ar")
    for row in OpenItem.objects.values("legal_entity", "currency").annotate(total=Sum("open_amount")):
        ledger = JournalLine.objects.filter(
            account__in=ar, entry__legal_entity=row["legal_entity"], currency=row["currency"]
        ).aggregate(total=Sum("amount"))["total"]
        assert ledger == row["total"]
    assert OpenItem.objects.filter(open_amount__gt=0).count() > 10
    # documents dated in closed months were posted into the first open month, keeping their date
    closed = Period.objects.filter(status="closed")
    assert closed.exists()
    assert not JournalLine.objects.filter(entry__period__in=closed).exists()
    # contracts in every review state, from several sales reps, each with a stored assessment
    statuses = set(ContractVersion.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "changes_requested", "approved", "active", "rejected", "terminated"} <= statuses
    assert Contract.objects.values("sales_owner").distinct().count() == 3
    assert not ContractVersion.objects.filter(assessments__isnull=True).exists()
    assert Finding.objects.exclude(severity="info").exists()
    active = Contract.objects.filter(status="active").select_related("current_version")
    assert active.exists() and all(c.current_version.status == "active" for c in active)

    rolled = [e for e in JournalEntry.objects.select_related("period") if e.document_date < e.period.start]
    assert rolled and all(e.entry_date == e.period.start for e in rolled)


def test_demo_logins_lists_every_role(capsys):
    call_command("demo_logins")
    out = capsys.readouterr().out
    for role in HUMAN_ROLES:
        assert role in out
