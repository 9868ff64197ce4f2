"""Browser views: list, filters, htmx partial, export, detail, create/edit, contacts, import,
and who is refused."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Contact, Customer, CustomerImport
from customers.services import customer_update
from tests.factories.customers import ContactFactory, CustomerFactory, customer_data, spreadsheet
from tests.factories.otc import UserFactory, user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")


def login(client, role, **kwargs):
    user = user_with_role(role, **kwargs)
    client.force_login(user)
    return user


def new_form_data(**overrides) -> dict:
    """What the create form posts: the defaults it shows plus the typed fields."""
    data = customer_data(risk_rating="low", status="active", invoice_delivery="email", procurement_portal="none")
    data.update(overrides)
    return data


def form_data(customer: Customer, **overrides) -> dict:
    data = new_form_data(legal_name=customer.legal_name, country=customer.country)
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------------

def test_list_shows_customers_with_links_and_money(client):
    login(client, "Billing Specialist")
    customer = CustomerFactory(legal_name="Acme Industrie GmbH", display_name="Acme", credit_limit=Decimal("1234567.5"))

    response = client.get(LIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="q"' in html
    assert f'href="{customer.get_absolute_url()}"' in html
    assert ">Acme</a>" in html
    assert "1,234,567.50 EUR" in html
    assert 'class="badge text-bg-success status-active"' in html


def test_list_search_and_filters(client):
    login(client, "Billing Specialist")
    CustomerFactory(legal_name="Acme GmbH", country="DE")
    CustomerFactory(legal_name="Zeta SA", country="FR", status="blocked", status_reason="Fraud")

    searched = client.get(LIST, {"q": "acme"})
    filtered = client.get(LIST, {"status": "blocked"})

    assert [c.legal_name for c in searched.context["page_obj"]] == ["Acme GmbH"]
    assert [c.legal_name for c in filtered.context["page_obj"]] == ["Zeta SA"]


def test_htmx_request_gets_the_table_partial(client):
    login(client, "Billing Specialist")
    CustomerFactory(legal_name="Acme GmbH")

    response = client.get(LIST, {"q": "acme"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.templates[0].name == "customers/_table.html"
    assert 'id="customer-table"' in html
    assert "<html" not in html
    assert "Acme GmbH" in html
    assert 'href="/customers/export.xlsx?q=acme"' in html  # the export link follows the filters


def test_list_sorts_and_paginates(client):
    login(client, "Billing Specialist")
    for n in range(55):
        CustomerFactory(legal_name=f"Customer {n:02d}")

    first = client.get(LIST, {"sort": "-name"})
    second = client.get(LIST, {"sort": "-name", "page": 2})

    assert len(first.context["page_obj"].object_list) == 50
    assert first.context["page_obj"].object_list[0].legal_name == "Customer 54"
    assert len(second.context["page_obj"].object_list) == 5


def test_sales_rep_list_shows_only_own(client):
    rep = login(client, "Sales Rep")
    CustomerFactory(legal_name="Mine AG", sales_owner=rep)
    CustomerFactory(legal_name="Theirs AG", sales_owner=user_with_role("Sales Rep"))

    response = client.get(LIST)

    assert [c.legal_name for c in response.context["page_obj"]] == ["Mine AG"]
    assert "owner" not in response.context["filter"].form.fields


def test_list_query_count_does_not_grow(client):
    login(client, "Billing Specialist")

    for _ in range(5):
        CustomerFactory(sales_owner=user_with_role("Sales Rep"))
    few = queries_for(client, LIST)
    for _ in range(20):
        CustomerFactory(sales_owner=user_with_role("Sales Rep"), procurement_portal="ariba", portal_supplier_id="S1")
    many = queries_for(client, LIST)

    assert many == few


# --- export -----------------------------------------------------------------------------------

def test_export_returns_the_filtered_rows_as_xlsx(client):
    login(client, "Finance Manager")
    CustomerFactory(legal_name="Acme GmbH", account_number="C300001", credit_limit=Decimal("1500.5"))
    CustomerFactory(legal_name="Zeta SA", account_number="C300002")

    response = client.get(reverse("customers:export"), {"q": "acme"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("account_number", "legal_name", "display_name")
    assert len(rows) == 2
    record = dict(zip(header, rows[1], strict=True))
    assert (record["account_number"], record["legal_name"], record["credit_limit"]) == ("C300001", "Acme GmbH", 1500.5)


def test_export_refused_for_sales_rep(client):
    login(client, "Sales Rep")

    assert client.get(reverse("customers:export")).status_code == 403


# --- detail -----------------------------------------------------------------------------------

def test_detail_shows_master_data_contacts_and_history(client):
    specialist = login(client, "Billing Specialist")
    customer = CustomerFactory(legal_name="Acme GmbH")
    ContactFactory(customer=customer, name="Ann Payable")
    customer_update(customer_id=customer.pk, data={"credit_limit": "60000"}, by=specialist, reason="annual review")

    response = client.get(customer.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme GmbH" in html and "Ann Payable" in html
    assert "60,000.00 EUR" in html
    assert 'id="history"' in html
    assert "annual review" in html
    assert response.context["history"][0]["who"] == specialist
    assert ">Edit</a>" in html


def test_detail_without_audit_permission_hides_history(client):
    rep = login(client, "Sales Rep")
    customer = CustomerFactory(sales_owner=rep)

    response = client.get(customer.get_absolute_url())

    assert response.status_code == 200
    assert 'id="history"' not in response.content.decode()
    assert ">Edit</a>" not in response.content.decode()


def test_detail_renders_registered_panels(client, monkeypatch):
    from otc.registry import Panel, registry

    login(client, "Billing Specialist")
    customer = CustomerFactory()
    panel = Panel(key="test-balance", title="Balance", template="customers/panels/my_customers.html",
                  context=lambda request, customer: {"total": 7, "customers": []})
    monkeypatch.setattr(registry, "customer", [panel])

    response = client.get(customer.get_absolute_url())

    assert 'data-panel="test-balance"' in response.content.decode()


# --- create and edit --------------------------------------------------------------------------

def test_create_form_saves_and_redirects(client):
    login(client, "Billing Specialist")

    response = client.post(reverse("customers:create"), new_form_data(legal_name="New Co GmbH"))

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.credit_limit == Decimal("25000.00")


def test_create_form_shows_errors_next_to_fields(client):
    login(client, "Billing Specialist")

    response = client.post(reverse("customers:create"), new_form_data(credit_limit="12.345", tax_id="DE136695977"))

    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors["credit_limit"] == ["'12.345' has more than 2 decimal places, which EUR does not allow."]
    assert form.errors["tax_id"][0].startswith("DE136695977 is not a valid DE tax id")
    assert "is-invalid" in response.content.decode()
    assert Customer.objects.count() == 0


def test_credit_limit_malformed_grouping_refused_in_form(client):
    login(client, "Billing Specialist")

    response = client.post(reverse("customers:create"), new_form_data(credit_limit="1,2,3"))

    assert list(response.context["form"].errors) == ["credit_limit"]
    assert Customer.objects.count() == 0


def test_edit_saves_and_shows_the_new_value(client):
    login(client, "Billing Specialist")
    customer = CustomerFactory()
    url = reverse("customers:edit", args=[customer.pk])

    form_page = client.get(url)
    saved = client.post(url, form_data(customer, credit_limit="75,000.00", change_reason="raise"), follow=True)

    assert form_page.context["form"].initial["credit_limit"] == "50000.00"
    assert "Save</button>" in form_page.content.decode()
    assert saved.status_code == 200
    assert "75,000.00 EUR" in saved.content.decode()
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("75000.00")
    assert customer.history.order_by("-history_id").first().history_change_reason == "raise"


def test_edit_on_hold_without_reason_shows_error(client):
    login(client, "Billing Specialist")
    customer = CustomerFactory()

    response = client.post(reverse("customers:edit", args=[customer.pk]), form_data(customer, status="on_hold"))

    assert response.context["form"].errors["status_reason"] == ["Say why the customer is on hold or blocked."]


# --- who is refused ---------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client):
    customer = CustomerFactory()

    for url in [LIST, customer.get_absolute_url(), reverse("customers:edit", args=[customer.pk]),
                reverse("customers:create"), reverse("customers:import"), reverse("customers:export")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_sales_rep_refusals(client):
    rep = login(client, "Sales Rep")
    own = CustomerFactory(sales_owner=rep)
    other = CustomerFactory(sales_owner=user_with_role("Sales Rep"))

    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(reverse("customers:edit", args=[own.pk])).status_code == 403
    assert client.post(reverse("customers:edit", args=[own.pk]), form_data(own, notes="x")).status_code == 403
    assert client.get(reverse("customers:create")).status_code == 403
    assert client.get(reverse("customers:import")).status_code == 403
    own.refresh_from_db()
    assert own.notes == ""


def test_auditor_views_but_cannot_edit(client):
    login(client, "Auditor")
    customer = CustomerFactory()

    assert client.get(LIST).status_code == 200
    assert client.get(customer.get_absolute_url()).status_code == 200
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 403
    assert client.post(reverse("customers:create"), new_form_data()).status_code == 403
    assert Customer.objects.count() == 1


def test_user_without_role_refused(client):
    client.force_login(UserFactory())
    customer = CustomerFactory()

    assert client.get(LIST).status_code == 403
    assert client.get(customer.get_absolute_url()).status_code == 403


# --- contacts ---------------------------------------------------------------------------------

def test_collector_adds_and_edits_contacts_but_cannot_delete(client):
    login(client, "Collector")
    customer = CustomerFactory()

    added = client.post(reverse("customers:contact_add", args=[customer.pk]),
                        {"name": "Ann", "email": "ann@x.example", "is_billing_contact": "on"})
    contact = Contact.objects.get()
    edited = client.post(reverse("customers:contact_edit", args=[contact.pk]),
                         {"name": "Ann Smith", "email": "ann@x.example", "phone": "123"})
    deleted = client.post(reverse("customers:contact_delete", args=[contact.pk]))

    assert (added.status_code, edited.status_code, deleted.status_code) == (302, 302, 403)
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.is_billing_contact) == ("Ann Smith", "123", False)


def test_billing_contact_without_email_shows_error(client):
    login(client, "Billing Specialist")
    customer = CustomerFactory()

    response = client.post(reverse("customers:contact_add", args=[customer.pk]), {"name": "Ann", "is_billing_contact": "on"})

    assert response.context["form"].errors["email"] == ["A billing contact needs an e-mail address for invoices."]
    assert Contact.objects.count() == 0


def test_specialist_deletes_contact(client):
    login(client, "Billing Specialist")
    contact = ContactFactory()

    response = client.post(reverse("customers:contact_delete", args=[contact.pk]))

    assert response.status_code == 302
    assert Contact.objects.count() == 0


def test_sales_rep_cannot_touch_contacts(client):
    rep = login(client, "Sales Rep")
    contact = ContactFactory(customer=CustomerFactory(sales_owner=rep))

    assert client.get(reverse("customers:contact_add", args=[contact.customer_id])).status_code == 403
    assert client.post(reverse("customers:contact_edit", args=[contact.pk]), {"name": "X"}).status_code == 403
    assert client.post(reverse("customers:contact_delete", args=[contact.pk])).status_code == 403
    assert Contact.objects.get().name == contact.name


# --- import -----------------------------------------------------------------------------------

def test_import_upload_preview_apply(client):
    login(client, "Billing Specialist")
    CustomerFactory(account_number="C400001")
    upload = io.BytesIO(spreadsheet([["account_number", "city"], ["C400001", "Hamburg"]]))
    upload.name = "update.csv"

    uploaded = client.post(reverse("customers:import"), {"file": upload})
    record = CustomerImport.objects.get()
    preview = client.get(uploaded["Location"])
    applied = client.post(reverse("customers:import_apply", args=[record.pk]))

    assert uploaded["Location"] == reverse("customers:import_preview", args=[record.pk])
    assert "Hamburg" in preview.content.decode()
    assert applied.status_code == 302
    assert Customer.objects.get().city == "Hamburg"


def test_import_preview_shows_row_errors_and_apply_is_refused(client):
    login(client, "Billing Specialist")
    CustomerFactory(account_number="C400001", city="Berlin")
    upload = io.BytesIO(spreadsheet([["account_number", "city", "credit_limit"], ["C400001", "Hamburg", "1,2,3"]]))
    upload.name = "bad.csv"

    uploaded = client.post(reverse("customers:import"), {"file": upload})
    preview = client.get(uploaded["Location"])
    applied = client.post(reverse("customers:import_apply", args=[CustomerImport.objects.get().pk]), follow=True)

    assert "Row 2, column <code>credit_limit</code>" in preview.content.decode()
    assert "has 1 row(s) with errors" in applied.content.decode()
    assert Customer.objects.get().city == "Berlin"


def test_import_unknown_column_shown_on_the_form(client):
    login(client, "Billing Specialist")
    upload = io.BytesIO(spreadsheet([["account_number", "shoe_size"], ["C1", "42"]]))
    upload.name = "bad.csv"

    response = client.post(reverse("customers:import"), {"file": upload})

    assert response.status_code == 200
    assert "Unknown column(s): shoe_size" in response.context["form"].errors["file"][0]


# --- dashboard panels -------------------------------------------------------------------------

def test_dashboard_panels(client):
    rep = login(client, "Sales Rep")
    CustomerFactory(sales_owner=rep, status="on_hold", status_reason="Late")
    mine = client.get(reverse("home")).content.decode()
    login(client, "Billing Specialist")
    finance = client.get(reverse("home")).content.decode()

    assert 'data-panel="customers-mine"' in mine and 'data-panel="customers-attention"' not in mine
    assert 'data-panel="customers-attention"' in finance and 'data-panel="customers-mine"' not in finance
    assert "Late" in finance


def test_export_keeps_the_list_order_even_by_a_registered_column(client):
    login(client, "Finance Manager")
    CustomerFactory(legal_name="Acme GmbH", account_number="C300001")
    CustomerFactory(legal_name="Zeta SA", account_number="C300002")

    by_name = client.get(reverse("customers:export"), {"sort": "-name"})
    by_balance = client.get(reverse("customers:export"), {"sort": "-balance"})  # the ledger's column

    names = [row[1] for row in load_workbook(io.BytesIO(by_name.content)).active.iter_rows(min_row=2, values_only=True)]
    assert names == ["Zeta SA", "Acme GmbH"]
    assert by_balance.status_code == 200


def test_the_list_footer_links_to_the_reimportable_export_only_for_who_may_export(client):
    login(client, "Finance Manager")
    CustomerFactory(legal_name="Acme GmbH")
    assert 'data-testid="list-export" href="/customers/export.xlsx?sort=-name"' in client.get(
        LIST, {"sort": "-name"}).content.decode()
    rep = login(client, "Sales Rep")
    CustomerFactory(legal_name="Mine AG", sales_owner=rep)
    page = client.get(LIST).content.decode()
    assert "Mine AG" in page and 'data-testid="list-export"' not in page
