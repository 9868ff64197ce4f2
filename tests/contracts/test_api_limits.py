"""Contracts API and form at the edges of the calendar and of plausible amounts (issue 15)."""

from __future__ import annotations

import json

import pytest

from contracts.models import Contract
from tests.factories.contracts_api import crm_body, crm_fixture  # noqa: F401
from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
URL = "/api/v1/contracts/"


@pytest.mark.parametrize("dates", [{"start_date": "9999-12-31", "end_date": None},
                                   {"start_date": "2026-01-01", "end_date": "9999-12-31"},
                                   {"start_date": "0001-01-01", "end_date": "2026-12-31"}])
def test_a_contract_dated_at_the_end_of_the_calendar_is_a_400(crm, world, dates):  # noqa: F811
    response = crm.post(URL, data=json.dumps(crm_body(world, **dates)), content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "validation_error"
    assert not Contract.objects.exists()


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_the_contract_form_refuses_a_date_at_the_end_of_the_calendar(world, field):  # noqa: F811
    from contracts.forms import ContractForm, LineForm

    form = ContractForm(data={"start_date": "2026-01-01", field: "9999-12-31"}, user=world.rep)
    assert not form.is_valid()
    assert "outside the dates this system accepts" in form.errors[field][0]
    line = LineForm(data={field: "9999-12-31"}, currency="EUR")
    assert not line.is_valid() and "outside the dates" in line.errors[field][0]


@pytest.mark.parametrize(("line", "field", "message"), [
    ({"quantity": "1000000000"}, "lines[0].quantity", "beyond the plausible maximum"),
    ({"unit_price": "1000000000000"}, "lines[0].unit_price", "beyond the plausible maximum"),
])
def test_implausible_quantities_and_prices_are_refused(crm, world, line, field, message):  # noqa: F811
    body = crm_body(world)
    body["lines"][0].update(line)
    response = crm.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert message in response.json()["fields"][field][0]
    assert not Contract.objects.exists()
