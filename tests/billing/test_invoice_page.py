"""The invoice page and list as a finance team reads them (issue 16): what paid and credited it,
what was sent, "send again", void and 0.00 invoices, unit and portal names."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.core import mail
from django.urls import reverse

from billing.models import Delivery
from billing.services import invoice_void, invoices_issue
from tests.factories.billing import ISSUE, de_entity, draft, issued, specialist
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.statements import world_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def page(client, invoice, user=None) -> str:
    client.force_login(user or specialist())
    response = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}"')[1].split('<div class="col-lg-6">')[0]


def test_payments_and_credits_link_to_the_receipt_and_the_credit_note(client, world):  # noqa: F811
    paid = section(page(client, world["first"]), "payments-and-credits")
    assert f'href="/receivables/receipts/{world["partial"].pk}/"' in paid and "500.00 EUR" in paid
    assert "690.00 EUR" in paid  # 1,190.00 less 500.00 paid
    credited = section(page(client, world["second"]), "payments-and-credits")
    assert f'href="/billing/credit-notes/{world["note"].pk}/"' in credited and "119.00 EUR" in credited
    assert "476.00 EUR" in credited  # 595.00 less 119.00 credited


def test_send_again_emails_the_pdf_and_logs_who_asked(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    ContactFactory(customer=customer, email="ap@kunde.example", is_billing_contact=True)
    invoice = issued(de_entity(), customer=customer)
    body = page(client, invoice)
    assert 'data-testid="send-again"' in body
    response = client.post(reverse("billing:invoice_send_again", args=[invoice.pk]), follow=True)
    assert "Invoice sent again to ap@kunde.example." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["ap@kunde.example"]]
    assert mail.outbox[0].attachments[0][0] == f"{invoice.number}.pdf"
    delivery = Delivery.objects.get(invoice=invoice)
    assert delivery.status == "sent" and delivery.detail.startswith("Sent again at ")
    # an auditor reads the log but may not send, and nothing is sent or written
    auditor = user_with_role("Auditor")
    assert 'data-testid="send-again"' not in page(client, invoice, auditor)
    assert client.post(reverse("billing:invoice_send_again", args=[invoice.pk])).status_code == 403
    assert len(mail.outbox) == 1 and Delivery.objects.filter(invoice=invoice).count() == 1


def test_a_void_invoice_owes_nothing_on_the_page_and_in_the_list(client, today):
    today(dt.date(2026, 4, 2))
    invoice = issued(de_entity())
    invoice_void(invoice_id=invoice.pk, by=user_with_role("Finance Manager"), reason="Wrong customer")
    body = page(client, invoice)
    assert 'data-testid="balance">0.00 EUR<' in body
    listing = client.get(reverse("billing:invoices")).content.decode()
    row = listing.split(invoice.number)[1].split("</tr>")[0]
    assert "1,190.00 EUR" in row and row.count("0.00 EUR") == 2  # total 1,190.00; balance 0.00
    assert 'data-testid="send-again"' not in body


def test_a_zero_invoice_reads_settled_not_open_or_overdue(client, today):
    today(dt.date(2026, 6, 1))
    free = draft(de_entity(), lines=[{"description": "Free month", "quantity": D("1"), "unit_price": D("0.00"),
                                      "tax_category": "digital", "unit": "MON"}])
    free = invoices_issue(invoice_ids=[free.pk], by=None, issue_date=ISSUE, queue_documents=False)[0]
    body = page(client, free)
    assert "Settled (nothing due)" in body and ">overdue<" not in body
    listing = client.get(reverse("billing:invoices"), {"overdue": "on"}).content.decode()
    assert free.number not in listing


def test_unit_names_instead_of_codes(client):
    body = page(client, draft(de_entity()))
    lines = body.split('data-testid="lines"')[1].split("</table>")[0]
    assert 'title="UN/ECE unit MON">month</span>' in lines


def test_the_list_sorts_by_any_column_and_totals_per_currency_with_a_converted_total(client, today):
    from tests.factories.ledger import FxRateFactory

    today(dt.date(2026, 4, 2))
    entity = de_entity()  # functional EUR
    FxRateFactory(date=dt.date(2026, 3, 31), from_currency="USD", to_currency="EUR", rate=D("0.9"))
    small = issued(entity)  # 1,190.00 EUR
    big = issued(entity, lines=[{"description": "Platform", "quantity": D("2"), "unit_price": D("1000.00"),
                                 "tax_category": "digital", "unit": "MON"}])  # 2,380.00 EUR
    dollars = issued(entity, currency="USD")  # 1,190.00 USD
    client.force_login(specialist())
    ascending = client.get(reverse("billing:invoices"), {"sort": "total"}).content.decode()
    numbers = [small.number, dollars.number, big.number]
    assert sorted(numbers, key=ascending.index) == [small.number, dollars.number, big.number] or \
        sorted(numbers, key=ascending.index) == [dollars.number, small.number, big.number]
    descending = client.get(reverse("billing:invoices"), {"sort": "-total"}).content.decode()
    assert descending.index(big.number) < descending.index(small.number)
    assert 'aria-sort="descending"' in descending
    totals = descending.split('data-testid="currency-totals"')[1].split("</tfoot>")[0]
    assert "Total EUR · 2 documents" in totals and "3,570.00 EUR" in totals
    assert "Total USD · 1 document" in totals and "1,190.00 USD" in totals
    converted = totals.split('data-testid="converted-total"')[1]
    assert "In EUR (functional)" in converted and "4,641.00 EUR" in converted  # 3,570.00 + 1,190.00 x 0.9


def test_the_portal_is_named_not_coded_on_the_invoice_page_and_the_worklist(client):
    """Issue 16: "Names where codes are shown: ... portal codes"."""
    from billing.services import portal_submission_ensure

    customer = CustomerFactory(country="DE", legal_name="Procurement AG", procurement_portal="ariba",
                               portal_supplier_id="AN01000000123")
    invoice = issued(de_entity(), customer=customer)
    portal_submission_ensure(invoice_id=invoice.pk)
    body = page(client, invoice)
    log = section(body, "communication")
    assert "SAP Ariba portal" in log and ">ariba<" not in log
    worklist = client.get(reverse("billing:portal")).content.decode()
    assert re.search(r">\s*SAP Ariba\s*</td>", worklist) and not re.search(r">\s*ariba\s*</td>", worklist)


def test_a_statement_sent_from_the_collections_page_is_in_each_covered_invoices_log(client, world):  # noqa: F811
    """Issue 16: the communication log lists statements. A collector sends the customer's statement
    from its collections page (the last 90 days); both invoices it listed show it, with the sender."""
    ContactFactory(customer=world["customer"], email="ap@kunde.example", is_billing_contact=True)
    collector = user_with_role("Collector", first_name="Cole", last_name="Carter")
    client.force_login(collector)
    response = client.post(reverse("collections_app:statement_send", args=[world["customer"].pk]),
                           {"legal_entity": world["entity"].pk, "currency": "EUR"}, follow=True)
    assert "Statement sent to ap@kunde.example." in response.content.decode()
    for invoice in (world["first"], world["second"]):
        log = section(page(client, invoice, user=user_with_role("Help Desk Agent")), "communication")
        assert "Statement 2026-02-01 to 2026-05-02 e-mailed by Cole Carter to ap@kunde.example" in log, invoice
