"""The product catalogue: search, create and edit with history; who may do what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import Product
from contracts.product_services import product_create, product_update
from otc.errors import PermissionDenied, ValidationFailed
from tests.factories.contracts import ProductFactory
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db


def product_form(**overrides) -> dict[str, str]:
    data = {
        "sku": "plat-std-m", "name": "Platform Standard", "description": "Monthly subscription", "unit": "MON",
        "currency": "eur", "default_price": "1,200.00", "revenue_account_code": "4000", "tax_category": "digital",
        "is_active": "on", "reason": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def chart():
    """A legal entity with the standard chart, so revenue account 4000 exists."""
    return LegalEntityFactory()


def test_billing_specialist_adds_a_product(client, chart):
    # given
    specialist = user_with_role("Billing Specialist")
    client.force_login(specialist)
    # when
    response = client.post(reverse("contracts:product_new"), product_form())
    # then
    assert response.status_code == 302
    product = Product.objects.get(sku="PLAT-STD-M")
    assert (product.name, product.unit, product.currency, product.tax_category) == (
        "Platform Standard", "MON", "EUR", "digital")
    assert product.default_price == Decimal("1200.00")
    assert product.history.first().history_user == specialist


def test_controller_changes_a_product_and_the_history_shows_it(client, chart):
    product = ProductFactory(sku="SUP-GOLD", name="Gold support", default_price=Decimal("500.00"))
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:product_edit", args=[product.pk]), product_form(
        sku="SUP-GOLD", name="Gold support 24/7", default_price="650.50", reason="2026 price list"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Gold support 24/7"
    assert product.default_price == Decimal("650.50")
    assert product.history.first().history_change_reason == "2026 price list"
    page = client.get(reverse("contracts:product_edit", args=[product.pk])).content.decode()
    assert "2026 price list" in page
    assert "650.50" in page


def test_duplicate_sku_is_refused_on_its_field(client, chart):
    ProductFactory(sku="PLAT-STD-M")
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:product_new"), product_form())

    assert response.status_code == 200
    assert response.context["form"].errors["sku"] == ["Product with this SKU already exists."]
    assert Product.objects.filter(sku="PLAT-STD-M").count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("default_price", "12.345", "'12.345' has more than 2 decimal places, which EUR does not allow."),
    ("default_price", "-1", "Must not be negative."),
    ("currency", "ABC", "Unknown currency code 'ABC': use an ISO 4217 code such as EUR or USD."),
    ("revenue_account_code", "9999",
     "No legal entity has account 9999 in its chart: use a revenue account such as 4000."),
])
def test_bad_product_input_is_refused_and_nothing_written(client, chart, field, value, message):
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:product_new"), product_form(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert Product.objects.count() == 0


def test_jpy_prices_have_no_decimals(client, chart):
    client.force_login(user_with_role("Controller"))

    response = client.post(reverse("contracts:product_new"), product_form(currency="JPY", default_price="1500.5"))

    assert response.context["form"].errors["default_price"] == [
        "'1500.5' has more than 0 decimal places, which JPY does not allow."]


def test_readers_see_the_list_but_are_refused_create_and_edit(client, chart):
    product = ProductFactory()
    client.force_login(user_with_role("Finance Manager"))

    assert client.get(reverse("contracts:products")).status_code == 200
    assert client.post(reverse("contracts:product_new"), product_form()).status_code == 403
    assert client.post(reverse("contracts:product_edit", args=[product.pk]),
                       product_form(name="Renamed")).status_code == 403
    product.refresh_from_db()
    assert product.name != "Renamed"
    assert Product.objects.count() == 1


def test_sales_rep_is_refused_adding_products(client, chart):
    client.force_login(user_with_role("Sales Rep"))

    assert client.get(reverse("contracts:product_new")).status_code == 403
    assert client.post(reverse("contracts:product_new"), product_form()).status_code == 403
    assert Product.objects.count() == 0


def test_search_finds_by_sku_name_or_description_and_filters_active(client):
    ProductFactory(sku="PLAT-STD", name="Platform Standard", default_price=Decimal("1200.00"))
    ProductFactory(sku="SUP-GOLD", name="Gold support", description="24/7 platform hotline")
    ProductFactory(sku="OLD-1", name="Legacy platform", is_active=False)
    client.force_login(user_with_role("Contract Reviewer"))

    def skus(**params) -> list[str]:
        response = client.get(reverse("contracts:products"), params)
        return [p.sku for p in response.context["page_obj"]]

    assert skus(q="platform") == ["OLD-1", "PLAT-STD", "SUP-GOLD"]
    assert skus(q="gold") == ["SUP-GOLD"]
    assert skus(q="platform", active="yes") == ["PLAT-STD", "SUP-GOLD"]
    assert skus(active="no") == ["OLD-1"]
    page = client.get(reverse("contracts:products"), {"q": "PLAT-STD"}).content.decode()
    assert "1,200.00 EUR" in page


def test_product_list_query_count_does_not_grow_with_rows(client):
    client.force_login(user_with_role("Controller"))
    ProductFactory()
    few = queries_for(client, reverse("contracts:products"))
    for _ in range(15):
        ProductFactory()
    assert queries_for(client, reverse("contracts:products")) == few


# --- the services ------------------------------------------------------------------------------

def test_product_services_refuse_without_permission_and_floats(chart):
    with pytest.raises(PermissionDenied, match="Your role may not add products."):
        product_create(data={"sku": "X", "name": "X"}, by=user_with_role("Contract Reviewer"))
    product = ProductFactory()
    with pytest.raises(PermissionDenied, match="Your role may not change products."):
        product_update(product_id=product.pk, data={"name": "Y"}, by=user_with_role("Sales Rep"))
    with pytest.raises(ValidationFailed) as exc:
        product_update(product_id=product.pk, data={"default_price": 12.5}, by=user_with_role("Controller"))
    assert exc.value.fields == {"default_price": ["Enter an amount such as 1,200.00 (never a float)."]}
