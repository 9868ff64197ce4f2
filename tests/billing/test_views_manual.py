"""The manual invoice form: a draft posted through the form with exact totals, the service's
refusals shown on the form (nothing written), editing a draft, who is refused, and which
customers the form offers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from billing.models import Invoice
from otc.models import User
from tests.factories.billing import de_entity, draft, issued
from tests.factories.contracts import ProductFactory
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


def login(client, role: str) -> User:
    user = user_with_role(role)
    client.force_login(user)
    return user


def line(i: int, **fields) -> dict[str, str]:
    defaults = {"product": "", "tax_category": "", "description": "", "quantity": "1", "unit_price": "",
                "discount_percent": "0", "service_start": "", "service_end": ""}
    defaults.update(fields)
    return {f"lines-{i}-{name}": value for name, value in defaults.items()}


def payload(entity, customer, lines: list[dict[str, str]], **header) -> dict[str, str]:
    data = {"legal_entity": str(entity.pk), "customer": str(customer.pk), "currency": "", "po_number": "",
            "service_start": "2026-03-01", "service_end": "2026-03-31", "payment_terms_days": "", "notes": "",
            "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000"}
    data.update(header)
    for row in lines:
        data.update(row)
    return data


@pytest.fixture
def world():
    entity = de_entity()
    customer = CustomerFactory(country="DE", legal_name="Kunde Zwei GmbH", payment_terms_days=45)
    product = ProductFactory(name="Consulting day", tax_category="services", unit="DAY", default_price=D("750.00"))
    return entity, customer, product


def three_lines(product) -> list[dict[str, str]]:
    return [
        # 1,000.00 at 19% -> tax 190.00
        line(0, tax_category="digital", description="Setup fee", unit_price="1,000.00"),
        # 3 x 33.335 = 100.005, less 10% = 90.0045 -> 90.00 ; 7% -> 6.30
        line(1, tax_category="reduced", description="Handbooks", quantity="3", unit_price="33.335",
             discount_percent="10"),
        # the product's name and tax category (services, 19%): 2 x 800.00 = 1,600.00 ; 304.00
        line(2, product=str(product.pk), quantity="2", unit_price="800.00"),
    ]


def test_manual_invoice_posted_through_the_form_has_exact_totals(client, world):
    # given a billing specialist and a customer with 45-day terms in EUR
    entity, customer, product = world
    login(client, "Billing Specialist")
    # when the form is posted with three lines
    response = client.post(reverse("billing:invoice_create"),
                           payload(entity, customer, three_lines(product), po_number="PO-77", notes="One-off work"))
    # then a draft exists with the exact amounts, and the browser goes to its page
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert (invoice.status, invoice.currency, invoice.payment_terms_days, invoice.po_number) == ("draft", "EUR", 45,
                                                                                                "PO-77")
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("2690.00"), D("500.30"), D("3190.30"))
    lines = list(invoice.lines.order_by("position"))
    assert [(ln.description, ln.net_amount, ln.tax_rate, ln.tax_amount) for ln in lines] == [
        ("Setup fee", D("1000.00"), D("19.0000"), D("190.00")),
        ("Handbooks", D("90.00"), D("7.0000"), D("6.30")),
        ("Consulting day", D("1600.00"), D("19.0000"), D("304.00")),
    ]
    assert lines[2].product_id == product.pk and lines[2].unit == "DAY"
    assert lines[0].service_start == dt.date(2026, 3, 1) and lines[0].service_end == dt.date(2026, 3, 31)
    body = client.get(response["Location"]).content.decode()
    assert "3,190.30 EUR" in body and "500.30 EUR" in body
    assert reverse("billing:invoice_edit", args=[invoice.pk]) in body


def test_currency_and_terms_given_on_the_form_win_over_the_customers(client, world):
    entity, customer, _ = world
    login(client, "Billing Specialist")
    client.post(reverse("billing:invoice_create"), payload(
        entity, customer, [line(0, tax_category="digital", description="Fee", unit_price="100.00")],
        currency="usd", payment_terms_days="14"))
    invoice = Invoice.objects.get()
    assert (invoice.currency, invoice.payment_terms_days, invoice.gross_total) == ("USD", 14, D("119.00"))


def test_service_refusal_shows_on_the_form_and_writes_nothing(client, world):
    # given a customer that requires a PO number on its invoices
    entity, customer, _ = world
    customer.po_required = True
    customer.save()
    login(client, "Billing Specialist")
    # when the form is posted without one
    response = client.post(reverse("billing:invoice_create"), payload(
        entity, customer, [line(0, tax_category="digital", description="Fee", unit_price="100.00")]))
    # then the form comes back with the service's message next to the PO field; nothing is saved
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kunde Zwei GmbH requires a PO number on its invoices." in body
    assert 'id="id_po_number"' in body
    assert not Invoice.objects.exists()


def test_shape_errors_are_named_per_line(client, world):
    entity, customer, _ = world
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:invoice_create"), payload(entity, customer, [
        line(0, description="No category", unit_price="10.00"),
        line(1, tax_category="digital", description="Bad price", unit_price="1,2,3"),
        line(2, tax_category="digital", description="Too much off", unit_price="10.00", discount_percent="120"),
    ]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose a product or a tax category." in body
    assert "is not an amount" in body
    assert "A percentage is at most 100." in body
    assert not Invoice.objects.exists()


def test_an_invoice_needs_a_line(client, world):
    entity, customer, _ = world
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:invoice_create"), payload(entity, customer, [line(0)]))
    assert "Add at least one line." in response.content.decode()
    assert not Invoice.objects.exists()


def test_new_form_offers_one_line_and_an_add_line_template(client, world):
    login(client, "Billing Specialist")
    body = client.get(reverse("billing:invoice_create")).content.decode()
    assert 'name="lines-TOTAL_FORMS" value="1"' in body
    assert 'id="empty-line"' in body and "lines-__prefix__-unit_price" in body
    assert 'hx-get="/billing/invoices/new/customers/"' in body


@pytest.mark.parametrize("role", ["Auditor", "Collector", "Finance Manager", "Sales Rep"])
def test_users_without_add_invoice_are_refused(client, world, role):
    entity, customer, _ = world
    login(client, role)
    assert client.get(reverse("billing:invoice_create")).status_code == 403
    response = client.post(reverse("billing:invoice_create"), payload(
        entity, customer, [line(0, tax_category="digital", description="Fee", unit_price="100.00")]))
    assert response.status_code == 403
    assert client.get(reverse("billing:invoice_customer_options"), {"customer_q": "Kunde"}).status_code == 403
    assert not Invoice.objects.exists()


def test_the_form_offers_only_the_customers_the_user_may_see(client, world):
    # given a sales rep who was allowed to create invoices, with one customer of their own
    entity, other, _ = world
    rep = user_with_role("Sales Rep")
    rep.user_permissions.add(Permission.objects.get(codename="add_invoice", content_type__app_label="billing"))
    rep = User.objects.get(pk=rep.pk)
    mine = CustomerFactory(country="DE", legal_name="Meine Kunde GmbH", sales_owner=rep)
    client.force_login(rep)
    # then the select and the search offer only their customer
    body = client.get(reverse("billing:invoice_create")).content.decode()
    assert "Meine Kunde GmbH" in body and "Kunde Zwei GmbH" not in body
    options = client.get(reverse("billing:invoice_customer_options"), {"customer_q": "Kunde"}).content.decode()
    assert f'value="{mine.pk}"' in options and f'value="{other.pk}"' not in options
    # and posting another rep's customer is refused on the form
    response = client.post(reverse("billing:invoice_create"), payload(
        entity, other, [line(0, tax_category="digital", description="Fee", unit_price="100.00")]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Invoice.objects.exists()


def test_customer_search_narrows_the_options(client, world):
    _, customer, _ = world
    CustomerFactory(legal_name="Andere AG")
    login(client, "Billing Specialist")
    options = client.get(reverse("billing:invoice_customer_options"), {"customer_q": "zwei"}).content.decode()
    assert f'<option value="{customer.pk}" selected>Kunde Zwei GmbH' in options
    assert "Andere AG" not in options


def test_edit_a_draft_replaces_its_lines_and_header(client, world):
    # given a draft of 1,000.00 net
    entity, customer, product = world
    invoice = draft(entity, customer=customer)
    login(client, "Billing Specialist")
    url = reverse("billing:invoice_edit", args=[invoice.pk])
    # the edit form shows the draft's line
    body = client.get(url).content.decode()
    assert 'value="Platform subscription"' in body and 'name="lines-TOTAL_FORMS" value="1"' in body
    # when it is saved with other lines, a PO and new terms
    data = payload(entity, customer, [
        line(0, tax_category="digital", description="Platform subscription", unit_price="1000.00",
             discount_percent="12.5"),
        line(1, product=str(product.pk), quantity="0.5", unit_price="800.00"),
    ], po_number="PO-9", payment_terms_days="10")
    response = client.post(url, data)
    # then the totals are recomputed from the new lines: 875.00 + 166.25 ; 400.00 + 76.00
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.po_number, invoice.payment_terms_days) == ("PO-9", 10)
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("1275.00"), D("242.25"), D("1517.25"))
    assert invoice.lines.count() == 2
    # entity, customer and currency stay what they were (the fields are disabled)
    assert (invoice.legal_entity_id, invoice.customer_id, invoice.currency) == (entity.pk, customer.pk, "EUR")


def test_an_issued_invoice_cannot_be_edited(client, world):
    entity, customer, _ = world
    invoice = issued(entity, customer=customer)
    login(client, "Billing Specialist")
    url = reverse("billing:invoice_edit", args=[invoice.pk])
    response = client.post(url, payload(entity, customer, [
        line(0, tax_category="digital", description="Changed", unit_price="1.00")]), follow=True)
    assert "cannot be changed: correct it with a credit note or void it." in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.gross_total, invoice.lines.get().description) == (D("1190.00"), "Platform subscription")


def test_edit_refused_without_change_invoice(client, world):
    entity, customer, _ = world
    invoice = draft(entity, customer=customer)
    login(client, "Auditor")
    url = reverse("billing:invoice_edit", args=[invoice.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, payload(entity, customer, [
        line(0, tax_category="digital", description="Changed", unit_price="1.00")])).status_code == 403
    invoice.refresh_from_db()
    assert invoice.gross_total == D("1190.00")
    body = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert reverse("billing:invoice_edit", args=[invoice.pk]) not in body
