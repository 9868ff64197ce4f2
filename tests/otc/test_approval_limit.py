"""approval_limit: user beats role, entity-specific beats general, zero when none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from otc.models import ApprovalLimit
from otc.roles import CONTROLLER, FINANCE_MANAGER
from otc.services import approval_limit
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import role_group, user_with_role

pytestmark = pytest.mark.django_db

KIND = ApprovalLimit.Kind.CREDIT_NOTE


def limit(max_amount: str, *, role=None, user=None, entity=None, currency="EUR", kind=KIND) -> ApprovalLimit:
    return ApprovalLimit.objects.create(kind=kind, role=role, user=user, legal_entity=entity,
                                        currency=currency, max_amount=Decimal(max_amount))


def test_zero_when_nothing_is_configured():
    manager = user_with_role(FINANCE_MANAGER)

    assert approval_limit(user=manager, kind=KIND, currency="EUR") == Decimal("0")


def test_role_limit_applies_to_its_members_only():
    manager = user_with_role(FINANCE_MANAGER)
    controller = user_with_role(CONTROLLER)
    limit("10000", role=role_group(FINANCE_MANAGER))

    assert approval_limit(user=manager, kind=KIND, currency="EUR") == Decimal("10000")
    assert approval_limit(user=controller, kind=KIND, currency="EUR") == Decimal("0")


def test_user_limit_beats_role_limit_even_when_lower():
    manager = user_with_role(FINANCE_MANAGER)
    limit("10000", role=role_group(FINANCE_MANAGER))
    limit("500", user=manager)

    assert approval_limit(user=manager, kind=KIND, currency="EUR") == Decimal("500")


def test_entity_specific_limit_beats_general_one():
    manager = user_with_role(FINANCE_MANAGER)
    dublin, berlin = LegalEntityFactory(code="IE1"), LegalEntityFactory(code="DE1")
    limit("10000", role=role_group(FINANCE_MANAGER))
    limit("2000", role=role_group(FINANCE_MANAGER), entity=dublin)

    assert approval_limit(user=manager, kind=KIND, currency="EUR", legal_entity_id=dublin.pk) == Decimal("2000")
    assert approval_limit(user=manager, kind=KIND, currency="EUR", legal_entity_id=berlin.pk) == Decimal("10000")
    assert approval_limit(user=manager, kind=KIND, currency="EUR") == Decimal("10000")


def test_user_general_limit_beats_role_entity_limit():
    manager = user_with_role(FINANCE_MANAGER)
    dublin = LegalEntityFactory(code="IE1")
    limit("2000", role=role_group(FINANCE_MANAGER), entity=dublin)
    limit("750", user=manager)

    assert approval_limit(user=manager, kind=KIND, currency="EUR", legal_entity_id=dublin.pk) == Decimal("750")


def test_limits_are_per_currency_and_kind():
    manager = user_with_role(FINANCE_MANAGER)
    limit("10000", role=role_group(FINANCE_MANAGER), currency="USD")
    limit("3000", role=role_group(FINANCE_MANAGER), kind=ApprovalLimit.Kind.WRITE_OFF)

    assert approval_limit(user=manager, kind=KIND, currency="EUR") == Decimal("0")
    assert approval_limit(user=manager, kind=KIND, currency="usd") == Decimal("10000")
    assert approval_limit(user=manager, kind=ApprovalLimit.Kind.WRITE_OFF, currency="EUR") == Decimal("3000")


def test_highest_of_several_roles_wins():
    user = user_with_role(FINANCE_MANAGER)
    user.groups.add(role_group(CONTROLLER))
    limit("10000", role=role_group(FINANCE_MANAGER))
    limit("50000", role=role_group(CONTROLLER))

    assert approval_limit(user=user, kind=KIND, currency="EUR") == Decimal("50000")
