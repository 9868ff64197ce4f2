"""Help-desk fixtures: an entity with an issued invoice for rep Sam's customer, a second rep with
their own customer, an agent who works the entity's queues, a billing specialist, the auditor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from helpdesk.models import Queue
from helpdesk.services import queue_ensure
from tests.factories.billing import de_entity, issued
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.otc import user_with_role
from tests.shared_data import built_once, fresh_copy

D = Decimal


@dataclass
class World:
    entity: object
    rep: object
    other_rep: object
    agent: object
    agent2: object
    specialist: object
    auditor: object
    customer: object
    other_customer: object
    invoice: object
    other_invoice: object


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.HELPDESK_ATTACHMENT_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HELPDESK_INBOUND_SIGNING_KEY = "test-signing-key"
    return tmp_path


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Built once per test module (tests/shared_data.py); each test gets its own copy."""
    yield from built_once(django_db_blocker, _build_world)


@pytest.fixture
def world(_world, db) -> World:
    return fresh_copy(_world)


def _build_world() -> World:
    entity = de_entity()
    rep = user_with_role("Sales Rep", username="sam", email="sam@otc.example")
    other_rep = user_with_role("Sales Rep", username="sofia", email="sofia@otc.example")
    agent = user_with_role("Help Desk Agent", username="hana", email="hana@otc.example")
    agent2 = user_with_role("Help Desk Agent", username="hugo", email="hugo@otc.example")
    specialist = user_with_role("Billing Specialist", username="bruno", email="bruno@otc.example")
    auditor = user_with_role("Auditor", username="aziz", email="aziz@otc.example")
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", sales_owner=rep)
    ContactFactory(customer=customer, name="AP Team", email="ap@kunde.example", is_billing_contact=True)
    other_customer = CustomerFactory(country="DE", legal_name="Andere AG", sales_owner=other_rep)
    invoice = issued(entity, customer=customer)
    other_invoice = issued(entity, customer=other_customer)
    for kind in Queue.Kind.values:
        queue = queue_ensure(legal_entity=entity, kind=kind)
        queue.members.add(agent, agent2)
    return World(entity, rep, other_rep, agent, agent2, specialist, auditor, customer, other_customer, invoice,
                 other_invoice)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A UTC instant in March 2026 (2026-03-02 is a Monday)."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)
