"""Agency and legal placements: placing (never twice), statuses, recoveries net of the fee in a
balanced entry, the documents pack, and placed items leaving dunning."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest

from collections_app.models import DunningLetter, DunningLetterItem, DunningSkip, PlacementItem
from collections_app.services.agency import (
    placement_create,
    placement_documents_zip,
    placement_transition,
    recovery_record,
)
from collections_app.services.dunning import dunning_run_start
from ledger.models import JournalLine
from ledger.selectors import ar_reconciliation
from otc.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories.collections_dunning import (
    agency_for,
    bank_statement,
    customer,
    eu_entity,
    invoice,
    policy_for,
)
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 6, 20)


@pytest.fixture
def book(today):
    today(DAY)
    entity = eu_entity()
    return entity


def test_placing_an_invoice_twice_is_refused_until_it_is_recalled(book):
    cust = customer()
    inv = invoice(book, cust, "1000.00")
    agency, other = agency_for(book), agency_for(book, name="Kanzlei Recht")
    collector = user_with_role("Collector")
    first = placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[inv.pk], by=collector)
    assert first.items.get().amount_placed == D("1190.00")
    with pytest.raises(Conflict, match=rf"Already placed: {inv.number} \(placement #{first.pk}\)"):
        placement_create(agency_id=other.pk, customer_id=cust.pk, invoice_ids=[inv.pk], by=collector)
    assert PlacementItem.objects.count() == 1
    placement_transition(placement_id=first.pk, to="recalled", by=collector, note="Customer called us")
    again = placement_create(agency_id=other.pk, customer_id=cust.pk, invoice_ids=[inv.pk], by=collector)
    assert again.items.get().active


def test_statuses_follow_the_map_and_only_collectors_place(book):
    cust = customer()
    inv = invoice(book, cust, "100.00")
    agency = agency_for(book)
    with pytest.raises(PermissionDenied):
        placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[inv.pk], by=user_with_role("Sales Rep"))
    collector = user_with_role("Collector")
    placement = placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[inv.pk], by=collector)
    for to in ("negotiating", "lawsuit_filed", "judgment", "settled"):
        placement = placement_transition(placement_id=placement.pk, to=to, by=collector)
    with pytest.raises(InvalidTransition):
        placement_transition(placement_id=placement.pk, to="negotiating", by=collector)
    other = customer("Fremd GmbH")
    with pytest.raises(ValidationFailed, match="not the customer's invoice"):
        placement_create(agency_id=agency.pk, customer_id=other.pk, invoice_ids=[invoice(book, cust, "5.00").pk],
                         by=collector)


def test_a_recovery_posts_net_cash_and_the_fee_to_expense_in_one_balanced_entry(book):
    cust = customer()
    inv = invoice(book, cust, "1000.00")  # 1,190.00
    agency = agency_for(book, fee_percent="20")
    collector = user_with_role("Collector")
    placement = placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[inv.pk], by=collector)

    recovery = recovery_record(placement_id=placement.pk, invoice_id=inv.pk, amount=D("500.00"), by=collector)

    assert (recovery.gross, recovery.fee, recovery.net) == (D("500.00"), D("100.00"), D("400.00"))
    lines = {(line.account.code, line.amount) for line in JournalLine.objects.filter(entry=recovery.journal_entry)
             .select_related("account")}
    assert lines == {("1000", D("400.00")), ("6200", D("100.00")), ("1100", D("-500.00"))}
    assert sum(line[1] for line in lines) == 0
    inv.refresh_from_db()
    assert (inv.amount_paid, inv.balance_due, inv.status) == (D("500.00"), D("690.00"), "partially_paid")
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=book.pk))
    with pytest.raises(ValidationFailed, match="690.00 EUR open"):
        recovery_record(placement_id=placement.pk, invoice_id=inv.pk, amount=D("700.00"), by=collector)


def test_placed_items_and_customers_leave_dunning(book, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("collections_app.services.dunning.dunning_letters_queue", lambda ids: None)
    policy_for(book)
    bank_statement(book, DAY)
    placed_customer, cust = customer("Platziert GmbH"), customer()
    placed_invoice = invoice(book, placed_customer, "1000.00")
    invoice(book, cust, "100.00")
    placement_create(agency_id=agency_for(book).pk, customer_id=placed_customer.pk, invoice_ids=[placed_invoice.pk],
                     by=None)
    with django_capture_on_commit_callbacks(execute=True):
        run = dunning_run_start(legal_entity_id=book.pk, by=None, run_date=DAY)
    assert list(DunningLetter.objects.values_list("customer_id", flat=True)) == [cust.pk]
    skip = DunningSkip.objects.get(run=run)
    assert skip.customer_id == placed_customer.pk and skip.reason.startswith("under placement with Inkasso Nord GmbH")
    assert not DunningLetterItem.objects.filter(invoice=placed_invoice).exists()


def test_documents_pack_zips_the_statement_and_the_invoice_pdfs(book):
    cust = customer()
    invoices = [invoice(book, cust, "100.00"), invoice(book, cust, "200.00")]
    placement = placement_create(agency_id=agency_for(book).pk, customer_id=cust.pk,
                                 invoice_ids=[i.pk for i in invoices], by=None)
    name, content = placement_documents_zip(placement_id=placement.pk)
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert name == f"placement-{placement.pk}-{cust.account_number}.zip"
    assert set(names) == {f"statement-{cust.account_number}.pdf", *(f"{i.number}.pdf" for i in invoices),
                          "placement.txt"}
    assert zipfile.ZipFile(io.BytesIO(content)).read(f"{invoices[0].number}.pdf").startswith(b"%PDF")


def test_placement_pages_place_change_status_record_recovery_and_download_the_pack(client, book):
    from django.urls import reverse

    from collections_app.models import Placement

    cust = customer()
    inv = invoice(book, cust, "1000.00")
    agency = agency_for(book)
    client.force_login(user_with_role("Collector"))
    assert client.get(reverse("collections_app:placements")).status_code == 200
    response = client.post(reverse("collections_app:placement_create"),
                           {"customer": cust.account_number, "agency": agency.pk, "invoices": inv.number})
    placement = Placement.objects.get()
    assert response["Location"] == reverse("collections_app:placement", args=[placement.pk])
    twice = client.post(reverse("collections_app:placement_create"),
                        {"customer": cust.account_number, "agency": agency.pk, "invoices": inv.number}, follow=True)
    assert "Already placed" in twice.content.decode() and Placement.objects.count() == 1
    client.post(reverse("collections_app:placement_transition", args=[placement.pk]), {"to": "negotiating"})
    client.post(reverse("collections_app:placement_recovery", args=[placement.pk]), {"invoice": inv.pk, "amount": "100"})
    page = client.get(reverse("collections_app:placement", args=[placement.pk])).content.decode()
    assert "Negotiating" in page and "80.00 EUR" in page and "20.00 EUR" in page
    pack = client.get(reverse("collections_app:placement_pack", args=[placement.pk]))
    assert pack["Content-Type"] == "application/zip"
    client.force_login(user_with_role("Sales Rep"))
    assert client.get(reverse("collections_app:placements")).status_code == 403


def test_placed_items_leave_the_collectors_worklist(book):
    from collections_app.selectors.worklist import worklist

    cust, placed_customer = customer(), customer("Platziert GmbH")
    invoice(book, cust, "100.00")
    placed_invoice = invoice(book, placed_customer, "100.00")
    cole = user_with_role("Collector")
    assert {cust.pk, placed_customer.pk} <= {row.customer_id for row in worklist(user=cole, today=DAY)}
    placement_create(agency_id=agency_for(book).pk, customer_id=placed_customer.pk, invoice_ids=[placed_invoice.pk],
                     by=None)
    after = {row.customer_id for row in worklist(user=cole, today=DAY)}
    assert cust.pk in after and placed_customer.pk not in after
