"""Customer statements: opening balance, the period's documents, closing balance to the cent after
invoices, a partial payment, a credit note and a refund; open items aged at the statement date;
the PDF read back; the e-mail to the billing contacts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from ledger.selectors import customer_balance
from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.models import OutboxEvent
from receivables.services import receipt_record
from receivables.statements import bucket_of, customer_statement, statement_email, statement_pdf
from tests.factories.customers import ContactFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import cash_app
from tests.factories.statements import (
    invoice,
    world_fixture,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.django_db
D = Decimal
APRIL, END_OF_APRIL = dt.date(2026, 4, 1), dt.date(2026, 4, 30)


def statement(world, date_from=APRIL, date_to=END_OF_APRIL):
    return customer_statement(customer_id=world["customer"].pk, legal_entity_id=world["entity"].pk, currency="EUR",
                              date_from=date_from, date_to=date_to)


def test_balances_to_the_cent_after_invoices_a_partial_payment_a_credit_note_and_a_refund(world):
    april = statement(world)

    assert april.opening_balance == D("1785.00")  # both invoices, issued 2026-03-31
    assert [(line.date, line.kind, line.reference, line.amount, line.balance) for line in april.lines] == [
        (dt.date(2026, 4, 10), "payment", world["partial"].number, D("-500.00"), D("1285.00")),
        (dt.date(2026, 4, 10), "application", world["partial"].number, D("0.00"), D("1285.00")),
        (dt.date(2026, 4, 15), "credit_note", world["note"].number, D("-119.00"), D("1166.00")),
        (dt.date(2026, 4, 20), "payment", world["extra"].number, D("-300.00"), D("866.00")),
        (dt.date(2026, 4, 25), "refund", world["extra"].number, D("50.00"), D("916.00")),
    ]
    assert (april.total_debits, april.total_credits, april.closing_balance) == (D("50.00"), D("919.00"), D("916.00"))
    assert april.opening_balance + april.total_debits - april.total_credits == april.closing_balance
    assert [(line.debit, line.credit) for line in april.lines][:3] == [(None, D("500.00")), (None, None),
                                                                       (None, D("119.00"))]
    # Nothing has happened since: the statement closes on what the ledger says is open today.
    assert [row["balance"] for row in customer_balance(customer_id=world["customer"].pk)] == [D("916.0000")]


def test_open_items_at_the_statement_date_add_up_to_the_closing_balance(world):
    april = statement(world)
    assert [(item.number, item.document_type, item.due_date, item.original_amount, item.open_amount, item.bucket)
            for item in april.open_items] == [
        (world["extra"].number, "receipt", dt.date(2026, 4, 20), D("-300.00"), D("-250.00"), "1_30"),
        (world["first"].number, "invoice", dt.date(2026, 4, 30), D("1190.00"), D("690.00"), "current"),
        (world["second"].number, "invoice", dt.date(2026, 4, 30), D("595.00"), D("476.00"), "current"),  # credited 119.00
    ]
    assert sum(item.open_amount for item in april.open_items) == april.closing_balance == D("916.00")
    assert april.ageing == {"current": D("1166.00"), "1_30": D("-250.00"), "31_60": 0, "61_90": 0, "over_90": 0}

    # A statement for March shows what was open on 31 March, not what is open now.
    march = statement(world, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (march.opening_balance, march.closing_balance) == (D("0.00"), D("1785.00"))
    assert [(line.kind, line.amount) for line in march.lines] == [("invoice", D("1190.00")), ("invoice", D("595.00"))]
    assert [(item.number, item.open_amount, item.bucket) for item in march.open_items] == [
        (world["first"].number, D("1190.00"), "current"), (world["second"].number, D("595.00"), "current")]


@pytest.mark.parametrize(("days", "bucket"), [
    (-5, "current"), (0, "current"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"), (61, "61_90"),
    (90, "61_90"), (91, "over_90"), (400, "over_90"),
])
def test_bucket_edges(days, bucket):
    assert bucket_of(days) == bucket


def test_ageing_buckets_by_days_past_due_at_the_statement_date(world):
    entity, customer = world["entity"], world["customer"]
    on = dt.date(2026, 1, 2)
    late = invoice(entity, customer, "100.00", on=on, terms=1)      # 119.00 due 01-03: 118 days at 05-01
    seventy = invoice(entity, customer, "500.00", on=on, terms=40)  # 595.00 due 02-11: 79 days
    sixty = invoice(entity, customer, "200.00", on=on, terms=59)    # 238.00 due 03-02: 60 days
    thirty = invoice(entity, customer, "300.00", on=on, terms=90)   # 357.00 due 04-02: 29 days
    future = invoice(entity, customer, "400.00", on=on, terms=130)  # 476.00 due 05-12: not yet due

    may = statement(world, dt.date(2026, 5, 1), dt.date(2026, 5, 1))
    by_number = {item.number: item for item in may.open_items}

    assert [(by_number[i.number].days_past_due, by_number[i.number].bucket)
            for i in (late, seventy, sixty, thirty, future)] == [
        (118, "over_90"), (79, "61_90"), (60, "31_60"), (29, "1_30"), (0, "current")]
    assert by_number[world["extra"].number].bucket == "1_30"  # unapplied cash ages from its value date: 11 days
    assert may.ageing == {
        "current": D("476.00"),
        "1_30": D("357.00") + D("690.00") + D("476.00") - D("250.00"),  # the April items fell due 04-30 / 04-20
        "31_60": D("238.00"), "61_90": D("595.00"), "over_90": D("119.00"),
    }
    assert sum(may.ageing.values()) == may.closing_balance == D("916.00") + D("1785.00")
    assert may.overdue == may.closing_balance - D("476.00")


def test_refusals(world):
    with pytest.raises(ValidationFailed, match="starts"):
        statement(world, END_OF_APRIL, APRIL)
    with pytest.raises(NotFound):
        customer_statement(customer_id=999999, legal_entity_id=world["entity"].pk, currency="EUR",
                           date_from=APRIL, date_to=END_OF_APRIL)
    with pytest.raises(ValidationFailed):
        customer_statement(customer_id=world["customer"].pk, legal_entity_id=world["entity"].pk, currency="XXX1",
                           date_from=APRIL, date_to=END_OF_APRIL)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_pdf_reads_back_balances_documents_ageing_and_remittance(world):
    content = statement_pdf(customer_id=world["customer"].pk, legal_entity_id=world["entity"].pk, currency="EUR",
                            date_from=APRIL, date_to=END_OF_APRIL)
    text = pdf_text(content)

    assert content.startswith(b"%PDF")
    for expected in ("Statement of account", "otc DE01 GmbH", "Kunde Eins GmbH", world["customer"].account_number,
                     "2026-04-01 – 2026-04-30", "Opening balance 1,785.00 EUR", "Closing balance 916.00 EUR",
                     world["partial"].number, world["note"].number, world["first"].number, "Payment received",
                     "Credit note", "Refund", "Payment applied", "690.00", "-250.00", "IBAN DE89370400440532013000",
                     "BIC / SWIFT COBADEFFXXX", "Over 90 days"):
        assert expected in text, expected


def test_email_goes_to_billing_contacts_with_the_pdf_and_is_recorded(world):
    ContactFactory(customer=world["customer"], email="ap@kunde.example", is_billing_contact=True)
    ContactFactory(customer=world["customer"], email="ceo@kunde.example", is_billing_contact=False)
    collector = user_with_role("Collector")

    sent = statement_email(customer_id=world["customer"].pk, legal_entity_id=world["entity"].pk, currency="EUR",
                           date_from=APRIL, date_to=END_OF_APRIL, by=collector)

    [message] = mail.outbox
    assert message.to == ["ap@kunde.example"] == sent.recipients
    assert message.extra_headers["Message-ID"] == sent.message_id
    assert "Statement of account" in message.subject and "Closing balance: 916.00 EUR" in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (sent.file_name, "application/pdf") and content.startswith(b"%PDF")
    event = OutboxEvent.objects.get(topic="customer.statement_sent")
    assert (event.subject_id, event.payload["sent_by"], event.payload["message_id"], event.payload["closing_balance"]) == (
        world["customer"].pk, collector.username, sent.message_id, "916.00")


def test_a_sent_statement_is_logged_on_each_invoice_it_covered(world, client):
    """Issue 16: the invoice page's communication log lists the statements that covered it (moved in
    the period or open at its end); an invoice issued after the period is not covered."""
    from django.urls import reverse

    from receivables.models import StatementDelivery

    ContactFactory(customer=world["customer"], email="ap@kunde.example", is_billing_contact=True)
    later = invoice(world["entity"], world["customer"], "100.00", on=dt.date(2026, 5, 2))
    collector = user_with_role("Collector", username="colin", first_name="Colin", last_name="Meyer")
    statement_email(customer_id=world["customer"].pk, legal_entity_id=world["entity"].pk, currency="EUR",
                    date_from=APRIL, date_to=END_OF_APRIL, by=collector)

    [delivery] = StatementDelivery.objects.all()
    assert sorted(delivery.invoices.values_list("pk", flat=True)) == sorted([world["first"].pk, world["second"].pk])
    assert (delivery.sent_by, delivery.recipients, delivery.closing_balance, delivery.currency) == (
        collector, ["ap@kunde.example"], D("916.00"), "EUR")
    client.force_login(user_with_role("Help Desk Agent"))
    page = client.get(reverse("billing:invoice_detail", args=[world["first"].pk])).content.decode()
    log = page[page.index('data-testid="communication"'):page.index('data-testid="communication"') + 5000]
    assert 'data-testid="statement-sent"' in log
    assert "Statement 2026-04-01 to 2026-04-30 e-mailed by Colin Meyer to ap@kunde.example" in log
    assert "Closing balance 916.00" in log
    page = client.get(reverse("billing:invoice_detail", args=[later.pk])).content.decode()
    assert 'data-testid="statement-sent"' not in page and "No customer statement covering it was e-mailed yet" in page


def test_email_refused_without_a_billing_contact_or_the_permission(world):
    args = {"customer_id": world["customer"].pk, "legal_entity_id": world["entity"].pk, "currency": "EUR",
            "date_from": APRIL, "date_to": END_OF_APRIL}
    with pytest.raises(ValidationFailed, match="no billing contact"):
        statement_email(**args, by=user_with_role("Collector"))
    with pytest.raises(PermissionDenied):
        statement_email(**args, by=user_with_role("Sales Rep"))  # not their customer
    assert not mail.outbox and not OutboxEvent.objects.filter(topic="customer.statement_sent").exists()


def test_the_download_view_checks_the_user_and_the_customer(world, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404

    from receivables.views.statements import statement_download

    def get(user, query: str):
        request = rf.get(f"/receivables/customers/{world['customer'].pk}/statement.pdf{query}")
        request.user = user
        return statement_download(request, world["customer"].pk)

    query = f"?legal_entity={world['entity'].pk}&currency=EUR&from=2026-04-01&to=2026-04-30"
    response = get(user_with_role("Collector"), query)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "statement-" in response["Content-Disposition"]
    assert get(user_with_role("Collector"), "?currency=EUR").status_code == 400
    assert get(user_with_role("Collector"), f"?legal_entity={world['entity'].pk}&currency=XX").status_code == 400
    assert get(AnonymousUser(), query).status_code == 302
    with pytest.raises(Http404):
        get(user_with_role("Sales Rep"), query)  # not their customer
    from django.core.exceptions import PermissionDenied as Forbidden

    from tests.factories.otc import UserFactory

    with pytest.raises(Forbidden):
        get(UserFactory(), query)  # no role: no ledger.view_openitem


def test_a_receipt_identified_later_shows_at_its_value_date_in_every_section(world, today):
    """Issue 14: imported on the 18th unidentified, identified on the 22nd: its line in the activity
    and its open item are both dated the 18th (its value date), never the day it was identified."""
    from receivables.services import receipt_identify

    today(dt.date(2026, 4, 18))
    late = receipt_record(by=cash_app(), data={"bank_account_id": world["account"].pk, "value_date": dt.date(2026, 4, 18),
                                               "amount": D("40.00"), "payer_name": "K1"})
    today(dt.date(2026, 4, 22))
    receipt_identify(receipt_id=late.pk, customer_id=world["customer"].pk, by=cash_app())
    april = statement(world)
    mine = [line for line in april.lines if line.reference == late.number]
    assert [(line.date, line.amount) for line in mine] == [(dt.date(2026, 4, 18), D("-40.00"))]
    item = next(i for i in april.open_items if i.number == late.number)
    assert item.document_date == dt.date(2026, 4, 18)
