"""Peppol participant ids in the customer file: the scheme list follows the vendored Peppol rules,
values are checked per scheme, and the form and the API refuse a bad one without writing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer
from customers.peppol import EAS_SCHEMES, validate_participant_id
from tests.factories.customers import CustomerFactory, customer_data
from tests.factories.otc import integration_client, user_with_role

PEPPOL_RULES = Path(__file__).resolve().parents[1] / "standards" / "peppol-bis-3" / "PEPPOL-EN16931-UBL.sch"


def test_the_scheme_list_is_the_one_the_vendored_peppol_rules_accept():
    # PEPPOL-EN16931-CL008 checks EndpointID/@schemeID against $eaid; a rules update that adds or
    # drops a code (9906 was dropped for 0211) must be followed here
    eaid = re.search(r'<let name="eaid" value="tokenize\(\'([0-9 ]+)\'', PEPPOL_RULES.read_text()).group(1)
    assert set(EAS_SCHEMES) == set(eaid.split())
    assert "9906" not in EAS_SCHEMES


@pytest.mark.parametrize(("scheme", "value", "stored"), [
    ("0088", "5790000436101", "5790000436101"),          # GLN with its GS1 check digit
    ("0192", "974 760 673", "974760673"),                 # Norwegian organisation number (mod 11)
    ("0007", "5560360793", "5560360793"),                 # Swedish organisation number
    ("9930", "136695976", "DE136695976"),                 # German VAT id: the prefix is added
    ("9932", "GB980780684", "GB980780684"),               # UK VAT id
    ("0211", "IT01114601006", "01114601006"),             # Italian partita IVA (replaces 9906)
    ("9959", "94-3276543", "943276543"),                  # US EIN
    ("0204", "991-12345-67", "991-12345-67"),             # German Leitweg-ID
    ("0130", "EC-DIGIT", "EC-DIGIT"),                     # no known format: letters, digits and - : . _ / @
])
def test_valid_participant_ids_are_stored_compact(scheme, value, stored):
    assert validate_participant_id(scheme, value) == stored


@pytest.mark.parametrize(("scheme", "value", "message"), [
    ("0088", "5790000436102", "GS1 check digit"),
    ("0192", "974760672", "not a valid 0192"),
    ("9930", "DE136695977", "not a valid 9930"),
    ("9906", "IT01114601006", "not on the Peppol EAS code list"),
    ("", "5790000436101", "not on the Peppol EAS code list"),
    ("0088", "", "Enter the participant id"),
    ("0130", "has spaces?!", "not a valid Peppol participant id"),
])
def test_invalid_participant_ids_are_refused_with_the_reason(scheme, value, message):
    with pytest.raises(ValidationError) as error:
        validate_participant_id(scheme, value)
    assert message in error.value.messages[0]


@pytest.mark.django_db
def test_the_model_checks_scheme_and_id_together():
    customer = CustomerFactory(country="NO", tax_id="")
    customer.peppol_scheme, customer.peppol_id = "0192", "974 760 673"
    customer.full_clean()
    assert customer.peppol_id == "974760673"
    customer.peppol_scheme, customer.peppol_id = "", "974760673"
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert set(error.value.message_dict) == {"peppol_scheme"}
    customer.peppol_scheme, customer.peppol_id = "0192", "974760672"
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert set(error.value.message_dict) == {"peppol_id"}


@pytest.mark.django_db
def test_api_creates_with_participant_id_and_buyer_network_id_and_refuses_a_bad_one(api_client):
    _, token = integration_client(scopes=["customers:read", "customers:write"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = "/api/v1/customers/"

    def crm_data(**overrides):  # what a CRM sends: no finance-controlled credit_limit (issue 15)
        data = customer_data(**overrides)
        data.pop("credit_limit", None)
        return data

    bad = api_client.post(url, data=json.dumps(crm_data(peppol_scheme="0088", peppol_id="5790000436102")),
                          content_type="application/json")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"peppol_id"}
    assert Customer.objects.count() == 0

    good = api_client.post(url, data=json.dumps(crm_data(
        peppol_scheme="0088", peppol_id="5790000436101", procurement_portal="ariba", portal_supplier_id="AN0100",
        portal_buyer_id="AN02000000999")), content_type="application/json")
    assert good.status_code == 201, good.json()
    body = good.json()
    assert (body["peppol_scheme"], body["peppol_id"], body["portal_buyer_id"]) == (
        "0088", "5790000436101", "AN02000000999")
    customer = Customer.objects.get()
    assert (customer.peppol_scheme, customer.peppol_id) == ("0088", "5790000436101")


@pytest.mark.django_db
def test_edit_form_shows_and_validates_the_participant_id(client):
    customer = CustomerFactory(country="DE", tax_id="DE136695976")
    client.force_login(user_with_role("Billing Specialist"))
    page = client.get(f"/customers/{customer.pk}/edit/")
    assert page.status_code == 200
    assert b'name="peppol_scheme"' in page.content and b'name="peppol_id"' in page.content
    assert b'name="portal_buyer_id"' in page.content
    assert b"0088 Global Location Number (GLN)" in page.content
