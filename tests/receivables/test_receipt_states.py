"""Every receipt status change goes through Receipt.TRANSITIONS (otc.services.status_move) and
leaves a status-change row; an over-long on-account note is refused with its limit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from otc.errors import InvalidTransition, ValidationFailed
from otc.models import StatusChange
from otc.services import status_move
from receivables.models import Receipt
from receivables.services import (
    application_reverse,
    receipt_apply,
    receipt_put_on_account,
    receipt_refund,
    receipt_reverse,
)
from tests.factories.otc import user_with_role
from tests.factories.receivables import cash_app, record

pytestmark = pytest.mark.django_db
D = Decimal


def moves(receipt) -> list[tuple[str, str]]:
    return list(StatusChange.objects.filter(content_type=ContentType.objects.get_for_model(Receipt),
                                            object_id=receipt.pk).order_by("id").values_list("from_state", "to_state"))


def test_each_status_change_of_a_receipt_leaves_a_row(book):
    receipt = record(book, "1190.00")
    receipt_apply(receipt_id=receipt.pk, by=cash_app(), allocations=[(book["first"].pk, D("1190.00"))])
    application_reverse(application_id=receipt.applications.get().pk, by=cash_app(), reason="Wrong invoice")
    receipt_put_on_account(receipt_id=receipt.pk, by=cash_app(), note="Keep as credit")
    receipt_reverse(receipt_id=receipt.pk, by=cash_app(), reason="Returned (R01)")

    assert moves(receipt) == [("unapplied", "applied"), ("applied", "unapplied"), ("unapplied", "on_account"),
                              ("on_account", "reversed")]


def test_a_refunded_receipt_cannot_be_reversed_by_the_map_either(book):
    receipt = record(book, "300.00")
    receipt_refund(receipt_id=receipt.pk, amount=D("300.00"), by=user_with_role("Finance Manager"), reason="Closed")
    receipt.refresh_from_db()
    assert receipt.status == "refunded"

    with pytest.raises(InvalidTransition, match="refunded cannot become reversed"):
        status_move(receipt, to=Receipt.Status.REVERSED, by=None)
    with pytest.raises(InvalidTransition):
        receipt_reverse(receipt_id=receipt.pk, by=cash_app(), reason="Returned")
    receipt.refresh_from_db()
    assert (receipt.status, moves(receipt)) == ("refunded", [("unapplied", "refunded")])


def test_every_state_the_map_names_is_a_status_and_reversed_is_final():
    statuses = set(Receipt.Status.values)
    assert set(Receipt.TRANSITIONS) == statuses
    assert all(set(targets) <= statuses for targets in Receipt.TRANSITIONS.values())
    assert Receipt.TRANSITIONS["reversed"] == () and "reversed" not in Receipt.TRANSITIONS["refunded"]


def test_an_over_long_on_account_note_is_refused_with_the_limit(book, client):
    receipt = record(book, "300.00")
    with pytest.raises(ValidationFailed, match="at most 500 characters; it has 501"):
        receipt_put_on_account(receipt_id=receipt.pk, by=cash_app(), note="x" * 501)

    client.force_login(cash_app())
    page = client.post(reverse("receivables:receipt_on_account", args=[receipt.pk]), {"note": "x" * 501},
                       follow=True).content.decode()

    assert "at most 500 characters (it has 501)" in page
    receipt.refresh_from_db()
    assert (receipt.status, moves(receipt)) == ("unapplied", [])
    receipt_put_on_account(receipt_id=receipt.pk, by=cash_app(), note="y" * 500)  # the limit itself is fine
    assert StatusChange.objects.get(object_id=receipt.pk, to_state="on_account").note == "y" * 500
