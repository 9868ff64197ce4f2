"""Customer services: creation, validation, updates, history, permissions, upsert, contacts."""

from decimal import Decimal

import pytest

from customers.models import Contact, Customer
from customers.services import (
    contact_create,
    contact_delete,
    contact_update,
    customer_create,
    customer_update,
    customer_upsert_by_crm_id,
)
from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.models import Counter
from tests.factories.customers import ContactFactory, CustomerFactory, customer_data
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def specialist():
    return user_with_role("Billing Specialist")


def _refused(by, **overrides) -> ValidationFailed:
    before = Customer.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        customer_create(data=customer_data(**overrides), by=by)
    assert Customer.objects.count() == before
    return caught.value


# --- creation and account numbers -------------------------------------------------------------

def test_create_generates_account_numbers_from_the_counter(specialist):
    Counter.objects.create(name="customer", value=41)

    first = customer_create(data=customer_data(), by=specialist)
    second = customer_create(data=customer_data(legal_name="Beta SARL", country="FR"), by=specialist)

    assert first.account_number == "C100042"
    assert second.account_number == "C100043"
    assert first.credit_limit == Decimal("25000.00")
    assert first.default_currency == "EUR"


def test_create_records_history_with_user(specialist):
    customer = customer_create(data=customer_data(), by=specialist)

    record = customer.history.get()
    assert record.history_type == "+"
    assert record.history_user == specialist
    assert record.history_change_reason == "created"


def test_create_with_contacts(specialist):
    customer = customer_create(
        data=customer_data(contacts=[{"name": "Ann AP", "email": "ap@acme.example", "is_billing_contact": True}]),
        by=specialist,
    )

    contact = customer.contacts.get()
    assert (contact.name, contact.email, contact.is_billing_contact) == ("Ann AP", "ap@acme.example", True)


def test_create_refuses_a_bad_contact_and_writes_nothing(specialist):
    with pytest.raises(ValidationFailed) as caught:
        customer_create(data=customer_data(contacts=[{"name": "No Mail", "is_billing_contact": True}]), by=specialist)

    assert caught.value.fields == {"contacts[0].email": ["A billing contact needs an e-mail address for invoices."]}
    assert Customer.objects.count() == 0
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("role", ["Sales Rep", "Auditor", "Collector", "Controller"])
def test_create_refused_without_add_permission(role):
    with pytest.raises(PermissionDenied):
        customer_create(data=customer_data(), by=user_with_role(role))
    assert Customer.objects.count() == 0


# --- validation -------------------------------------------------------------------------------

def test_valid_german_vat_is_kept_compact(specialist):
    customer = customer_create(data=customer_data(tax_id="DE 136 695 976"), by=specialist)

    assert customer.tax_id == "DE136695976"


def test_invalid_german_vat_is_refused(specialist):
    error = _refused(specialist, tax_id="DE136695977")

    assert error.code == "validation_error"
    assert list(error.fields) == ["tax_id"]
    assert error.fields["tax_id"][0].startswith("DE136695977 is not a valid DE tax id")


def test_us_ein_is_validated(specialist):
    customer = customer_create(data=customer_data(country="US", tax_id="04-2103594", default_currency="USD"), by=specialist)
    assert customer.tax_id == "042103594"

    error = _refused(specialist, country="US", tax_id="00-1234567", default_currency="USD")
    assert list(error.fields) == ["tax_id"]


def test_portal_delivery_needs_portal(specialist):
    error = _refused(specialist, invoice_delivery="portal")

    assert error.fields == {"procurement_portal": ["Choose the procurement portal that invoices are delivered to."]}


def test_portal_needs_supplier_id(specialist):
    error = _refused(specialist, invoice_delivery="portal", procurement_portal="coupa")

    assert error.fields == {"portal_supplier_id": ["Enter our supplier id on the customer's portal."]}


def test_on_hold_needs_reason(specialist):
    error = _refused(specialist, status="on_hold")

    assert error.fields == {"status_reason": ["Say why the customer is on hold or blocked."]}


@pytest.mark.parametrize("text", ["1,2,3", "12.345", "1e5", "abc", "-", "NaN"])
def test_credit_limit_is_parsed_strictly(specialist, text):
    error = _refused(specialist, credit_limit=text)

    assert list(error.fields) == ["credit_limit"]


def test_credit_limit_float_is_refused(specialist):
    error = _refused(specialist, credit_limit=12.5)

    assert list(error.fields) == ["credit_limit"]


def test_credit_limit_decimals_follow_the_currency(specialist):
    kwd = customer_create(data=customer_data(country="KW", default_currency="KWD", credit_limit="12.345"), by=specialist)
    assert kwd.credit_limit == Decimal("12.345")

    error = _refused(specialist, default_currency="JPY", credit_limit="100.5")
    assert list(error.fields) == ["credit_limit"]


def test_credit_limit_grouped_thousands_accepted(specialist):
    customer = customer_create(data=customer_data(credit_limit="1,234,567.89"), by=specialist)

    assert customer.credit_limit == Decimal("1234567.89")


def test_negative_credit_limit_refused(specialist):
    error = _refused(specialist, credit_limit="-5")

    assert list(error.fields) == ["credit_limit"]


def test_unknown_currency_and_missing_fields_named(specialist):
    error = _refused(specialist, default_currency="XYZ", legal_name="", city="")

    assert set(error.fields) == {"default_currency", "legal_name", "city"}
    assert error.message.startswith("Please correct:")


def test_unknown_field_refused(specialist):
    error = _refused(specialist, account_number="C1")

    assert error.fields == {"account_number": ["'account_number' is not a customer field that can be changed."]}


def test_duplicate_crm_id_refused(specialist):
    CustomerFactory(external_crm_id="CRM-1")

    with pytest.raises(ValidationFailed) as caught:
        customer_create(data=customer_data(external_crm_id="CRM-1"), by=specialist)

    assert list(caught.value.fields) == ["external_crm_id"]
    assert Customer.objects.count() == 1


# --- update and history -----------------------------------------------------------------------

def test_update_changes_fields_and_records_history(specialist):
    customer = customer_create(data=customer_data(), by=specialist)

    customer_update(
        customer_id=customer.pk, data={"credit_limit": "30,000.00", "status": "on_hold", "status_reason": "Unpaid"},
        by=specialist, reason="Credit review",
    )

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("30000.00")
    assert customer.status == "on_hold"
    latest = customer.history.order_by("-history_id").first()
    assert latest.history_user == specialist
    assert latest.history_change_reason == "Credit review"
    changed = {c.field for c in latest.diff_against(latest.prev_record).changes}
    assert changed == {"credit_limit", "status", "status_reason"}


def test_update_refused_leaves_record_unchanged(specialist):
    customer = CustomerFactory()

    with pytest.raises(ValidationFailed):
        customer_update(customer_id=customer.pk, data={"status": "blocked"}, by=specialist)

    customer.refresh_from_db()
    assert customer.status == "active"


def test_sales_rep_cannot_update_even_own_customer():
    rep = user_with_role("Sales Rep")
    customer = CustomerFactory(sales_owner=rep)

    with pytest.raises(PermissionDenied):
        customer_update(customer_id=customer.pk, data={"notes": "x"}, by=rep)


def test_update_of_invisible_customer_is_not_found():
    rep = user_with_role("Sales Rep")
    other = CustomerFactory(sales_owner=user_with_role("Sales Rep"))

    with pytest.raises(NotFound):
        customer_update(customer_id=other.pk, data={"notes": "x"}, by=rep)


def test_update_missing_customer_is_not_found(specialist):
    with pytest.raises(NotFound):
        customer_update(customer_id=999999, data={"notes": "x"}, by=specialist)


def test_parent_cannot_be_self(specialist):
    customer = CustomerFactory()

    with pytest.raises(ValidationFailed) as caught:
        customer_update(customer_id=customer.pk, data={"parent": customer.pk}, by=specialist)

    assert caught.value.fields == {"parent": ["A customer cannot be its own parent."]}


# --- upsert -----------------------------------------------------------------------------------

def test_upsert_creates_then_updates_the_same_customer():
    crm = user_with_role("Integration")

    created, was_created = customer_upsert_by_crm_id(external_crm_id="0061X", data=customer_data(), by=crm)
    updated, again = customer_upsert_by_crm_id(external_crm_id="0061X", data={"credit_limit": "99000"}, by=crm)

    assert (was_created, again) == (True, False)
    assert updated.pk == created.pk
    assert Customer.objects.get().credit_limit == Decimal("99000")
    assert [h.history_change_reason for h in created.history.order_by("history_id")] == ["CRM upsert", "CRM upsert"]


def test_upsert_new_customer_needs_mandatory_fields():
    crm = user_with_role("Integration")

    with pytest.raises(ValidationFailed) as caught:
        customer_upsert_by_crm_id(external_crm_id="0061Y", data={"legal_name": "Only a name"}, by=crm)

    assert set(caught.value.fields) == {"country", "address_line1", "city"}
    assert Customer.objects.count() == 0


def test_upsert_syncs_contacts_by_email():
    crm = user_with_role("Integration")
    customer_upsert_by_crm_id(
        external_crm_id="A1", data=customer_data(contacts=[{"name": "Ann", "email": "ann@x.example"}]), by=crm
    )

    customer, _ = customer_upsert_by_crm_id(
        external_crm_id="A1",
        data={"contacts": [{"name": "Ann Smith", "email": "ANN@x.example"}, {"name": "Bob", "email": "bob@x.example"}]},
        by=crm,
    )

    assert sorted(customer.contacts.values_list("name", "email")) == [("Ann Smith", "ANN@x.example"), ("Bob", "bob@x.example")]


# --- contacts ---------------------------------------------------------------------------------

def test_collector_maintains_contacts_with_history():
    collector = user_with_role("Collector")
    customer = CustomerFactory()

    contact = contact_create(customer_id=customer.pk, data={"name": "Ann", "email": "ann@x.example"}, by=collector)
    contact_update(contact_id=contact.pk, data={"phone": "+49 30 1234"}, by=collector, reason="called")

    contact.refresh_from_db()
    assert contact.phone == "+49 30 1234"
    assert [(h.history_type, h.history_user, h.history_change_reason) for h in contact.history.order_by("history_id")] == [
        ("+", collector, "created"), ("~", collector, "called"),
    ]
    with pytest.raises(PermissionDenied):
        contact_delete(contact_id=contact.pk, by=collector)
    assert Contact.objects.count() == 1


def test_contact_delete_keeps_history(specialist):
    contact = ContactFactory()

    contact_delete(contact_id=contact.pk, by=specialist)

    assert Contact.objects.count() == 0
    assert Contact.history.filter(id=contact.pk, history_type="-").get().history_user == specialist


def test_billing_contact_needs_email(specialist):
    customer = CustomerFactory()

    with pytest.raises(ValidationFailed) as caught:
        contact_create(customer_id=customer.pk, data={"name": "Ann", "is_billing_contact": True}, by=specialist)

    assert caught.value.fields == {"email": ["A billing contact needs an e-mail address for invoices."]}
    assert Contact.objects.count() == 0


def test_sales_rep_cannot_add_contacts():
    rep = user_with_role("Sales Rep")
    customer = CustomerFactory(sales_owner=rep)

    with pytest.raises(PermissionDenied):
        contact_create(customer_id=customer.pk, data={"name": "Ann"}, by=rep)
    assert Contact.objects.count() == 0
