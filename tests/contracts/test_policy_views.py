"""The finance policy page: Controllers edit (with history), Finance Managers read but are
refused the edit, Sales Reps are refused; bad input is refused with a message and nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import FinancePolicy
from contracts.policy_services import finance_policy_update
from otc.errors import PermissionDenied, ValidationFailed
from tests.factories.contracts import FinancePolicyFactory
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import UserFactory, user_with_role

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict[str, str]:
    data = {
        "standard_payment_terms_days": "45", "max_payment_terms_days": "75", "max_discount_percent": "12.5",
        "reviewer_max_value": "150,000.00", "manager_max_value": "600000", "allowed_currencies": "eur, usd ,GBP",
        "high_risk_requires_prepayment": "on", "high_risk_min_prepayment_percent": "30",
        "credit_warning_percent": "75", "max_free_periods": "2", "min_renewal_notice_days": "60",
        "arrears_max_months": "3", "max_backdating_days": "14", "reason": "Board decision 2026-03",
    }
    data.update(overrides)
    return data


def test_controller_edits_a_policy_and_the_change_is_in_the_history(client):
    # given
    entity = LegalEntityFactory(code="IE01", functional_currency="EUR")
    FinancePolicyFactory(legal_entity=entity)
    controller = user_with_role("Controller")
    client.force_login(controller)
    # when
    response = client.post(reverse("contracts:policy_edit", args=[entity.pk]), form_data())
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:policy")
    policy = FinancePolicy.objects.get(legal_entity=entity)
    assert policy.standard_payment_terms_days == 45
    assert policy.max_payment_terms_days == 75
    assert policy.max_discount_percent == Decimal("12.5")
    assert policy.reviewer_max_value == Decimal("150000.00")
    assert policy.manager_max_value == Decimal("600000")
    assert policy.allowed_currencies == ["EUR", "USD", "GBP"]
    assert policy.high_risk_min_prepayment_percent == Decimal("30")
    assert policy.credit_warning_percent == Decimal("75")
    assert (policy.max_free_periods, policy.min_renewal_notice_days, policy.arrears_max_months,
            policy.max_backdating_days) == (2, 60, 3, 14)
    latest = policy.history.first()
    assert latest.history_user == controller
    assert latest.history_change_reason == "Board decision 2026-03"
    # and the page shows the change
    page = client.get(reverse("contracts:policy")).content.decode()
    assert "Board decision 2026-03" in page
    assert "150,000.00 EUR" in page
    assert f'href="{reverse("contracts:policy_edit", args=[entity.pk])}"' in page
    edit_page = client.get(reverse("contracts:policy_edit", args=[entity.pk])).content.decode()
    assert "Board decision 2026-03" in edit_page
    assert ('<strong>Standard payment terms</strong>: <span class="diff-old">30</span> → '
            '<span class="diff-new">45</span>') in edit_page
    assert '<span class="diff-new">EUR, USD, GBP</span>' in edit_page
    assert "updated at" not in edit_page


def test_first_save_creates_the_policy_of_an_entity_without_one(client):
    entity = LegalEntityFactory(code="US01", functional_currency="USD")
    client.force_login(user_with_role("Controller"))

    page = client.get(reverse("contracts:policy")).content.decode()
    assert "defaults" in page
    assert FinancePolicy.objects.filter(legal_entity=entity).count() == 0  # a GET never writes

    response = client.post(reverse("contracts:policy_edit", args=[entity.pk]),
                           form_data(allowed_currencies="USD", reviewer_max_value="50000"))

    assert response.status_code == 302
    assert FinancePolicy.objects.get(legal_entity=entity).reviewer_max_value == Decimal("50000")


def test_policies_are_side_by_side_in_each_entitys_currency(client):
    FinancePolicyFactory(legal_entity=LegalEntityFactory(code="IE01", functional_currency="EUR"))
    FinancePolicyFactory(legal_entity=LegalEntityFactory(code="US01", functional_currency="USD"),
                         reviewer_max_value=Decimal("120000"))
    client.force_login(user_with_role("Finance Manager"))

    response = client.get(reverse("contracts:policy"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "100,000.00 EUR" in page
    assert "120,000.00 USD" in page
    assert 'data-testid="edit-' not in page  # no edit links for a reader


def test_finance_manager_reads_but_is_refused_the_edit_and_nothing_is_written(client):
    entity = LegalEntityFactory()
    FinancePolicyFactory(legal_entity=entity)
    client.force_login(user_with_role("Finance Manager"))

    assert client.get(reverse("contracts:policy")).status_code == 200
    assert client.get(reverse("contracts:policy_edit", args=[entity.pk])).status_code == 403
    response = client.post(reverse("contracts:policy_edit", args=[entity.pk]), form_data())

    assert response.status_code == 403
    policy = FinancePolicy.objects.get(legal_entity=entity)
    assert policy.standard_payment_terms_days == 30
    assert policy.history.count() == 1  # only the creation


def test_sales_rep_reads_the_policy_but_is_refused_the_edit_and_nothing_is_written(client):
    # given: otc/roles.py gives every contract reader (sales reps too) contracts.view_financepolicy
    entity = LegalEntityFactory()
    client.force_login(user_with_role("Sales Rep"))

    assert client.get(reverse("contracts:policy")).status_code == 200
    assert client.get(reverse("contracts:policy_edit", args=[entity.pk])).status_code == 403
    assert client.post(reverse("contracts:policy_edit", args=[entity.pk]), form_data()).status_code == 403
    assert FinancePolicy.objects.count() == 0


def test_a_user_without_a_contracts_role_is_refused_the_page(client):
    client.force_login(UserFactory())

    assert client.get(reverse("contracts:policy")).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("contracts:policy"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_bad_currency_code_is_refused_with_a_message(client):
    entity = LegalEntityFactory()
    FinancePolicyFactory(legal_entity=entity)
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:policy_edit", args=[entity.pk]),
                           form_data(allowed_currencies="EUR, EURO, usd"))

    assert response.status_code == 200
    assert response.context["form"].errors["allowed_currencies"] == [
        "'EURO' is not an ISO 4217 currency code: use three-letter codes such as EUR, USD, GBP."]
    assert FinancePolicy.objects.get(legal_entity=entity).standard_payment_terms_days == 30


def test_reviewer_threshold_above_the_managers_is_refused(client):
    entity = LegalEntityFactory()
    FinancePolicyFactory(legal_entity=entity)
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:policy_edit", args=[entity.pk]),
                           form_data(reviewer_max_value="600,000.01", manager_max_value="600,000.00"))

    assert response.status_code == 200
    assert response.context["form"].errors["manager_max_value"] == [
        "The manager's threshold must be at least the reviewer's."]
    assert FinancePolicy.objects.get(legal_entity=entity).reviewer_max_value == Decimal("100000")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("reviewer_max_value", "1,2,3", "'1,2,3' is not an amount: use digits with an optional '.' for decimals, "
                                    "e.g. 1234.56."),
    ("reviewer_max_value", "100.001", "'100.001' has more than 2 decimal places, which EUR does not allow."),
    ("max_discount_percent", "101", "A percentage is between 0 and 100."),
    ("max_discount_percent", "ten", "'ten' is not a percentage: type a number between 0 and 100, e.g. 15 or 12.5."),
    ("max_payment_terms_days", "29", "Maximum terms must be at least the standard terms."),
    ("reason", "", "This field is required."),
])
def test_malformed_input_is_refused_on_its_field(client, field, value, message):
    entity = LegalEntityFactory()
    FinancePolicyFactory(legal_entity=entity)
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:policy_edit", args=[entity.pk]),
                           form_data(standard_payment_terms_days="30", **{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert FinancePolicy.objects.get(legal_entity=entity).history.count() == 1


def test_percent_may_be_typed_with_a_percent_sign(client):
    entity = LegalEntityFactory()
    client.force_login(user_with_role("Controller"))

    client.post(reverse("contracts:policy_edit", args=[entity.pk]), form_data(max_discount_percent="17.5 %"))

    assert FinancePolicy.objects.get(legal_entity=entity).max_discount_percent == Decimal("17.5")


# --- the service -------------------------------------------------------------------------------

def test_service_refuses_a_finance_manager_and_writes_nothing():
    entity = LegalEntityFactory()
    with pytest.raises(PermissionDenied, match="Only a Controller may change the finance policy."):
        finance_policy_update(legal_entity_id=entity.pk, data={"max_free_periods": 3},
                              by=user_with_role("Finance Manager"))
    assert FinancePolicy.objects.count() == 0


def test_service_refuses_floats_and_a_list_without_the_entitys_currency():
    entity = LegalEntityFactory(code="IE01", functional_currency="EUR")
    controller = user_with_role("Controller")

    with pytest.raises(ValidationFailed) as float_error:
        finance_policy_update(legal_entity_id=entity.pk, data={"reviewer_max_value": 1000.5}, by=controller)
    with pytest.raises(ValidationFailed) as currency_error:
        finance_policy_update(legal_entity_id=entity.pk, data={"allowed_currencies": ["USD"]}, by=controller)

    assert float_error.value.fields == {"reviewer_max_value": ["Enter a number such as 15 or 100000.00 (never a float)."]}
    assert currency_error.value.fields == {"allowed_currencies": [
        "Include EUR, IE01's own currency, or leave the list empty to allow any currency."]}


def test_service_checks_the_constraints_with_full_clean():
    entity = LegalEntityFactory()
    controller = user_with_role("Controller")

    with pytest.raises(ValidationFailed) as exc:
        finance_policy_update(legal_entity_id=entity.pk, data={"manager_max_value": Decimal("99999.99")},
                              by=controller)

    assert exc.value.fields == {"manager_max_value": ["The manager's threshold must be at least the reviewer's."]}
    assert exc.value.message == ("The finance policy was not saved: The manager's threshold must be at least the "
                                 "reviewer's.")


def test_nav_shows_finance_policy_to_readers_only(client):
    client.force_login(user_with_role("Contract Reviewer"))
    assert reverse("contracts:policy") in client.get(reverse("home")).content.decode()
    client.force_login(UserFactory())
    assert reverse("contracts:policy") not in client.get(reverse("home")).content.decode()
