"""Bulk update of customer files from XLSX/CSV: preview, per-row errors, all-or-nothing apply."""

from decimal import Decimal

import pytest

from customers.models import Customer, CustomerImport
from customers.services import customer_update, customers_import_apply, customers_import_preview
from otc.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories.customers import CustomerFactory, spreadsheet
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def specialist():
    return user_with_role("Billing Specialist")


@pytest.fixture
def two_customers():
    return CustomerFactory(account_number="C200001"), CustomerFactory(account_number="C200002")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_preview_shows_changes_and_apply_writes_them(specialist, two_customers, fmt):
    first, second = two_customers
    content = spreadsheet([
        ["account_number", "credit_limit", "risk_rating", "payment_terms_days"],
        ["C200001", "75000.00", "high", 45],
        ["C200002", "50000", "low", 30],
    ], fmt=fmt)

    preview = customers_import_preview(file_name=f"update.{fmt}", content=content, by=specialist)

    assert (preview.status, preview.total_rows, preview.changed_rows, preview.error_rows) == ("previewed", 2, 1, 0)
    assert preview.rows[0]["changes"] == [
        {"field": "credit_limit", "label": "credit limit", "old": "50000", "new": "75000"},
        {"field": "risk_rating", "label": "risk rating", "old": "low", "new": "high"},
        {"field": "payment_terms_days", "label": "payment terms days", "old": "30", "new": "45"},
    ]
    assert preview.rows[1]["changes"] == []
    first.refresh_from_db()
    assert first.credit_limit == Decimal("50000.00")  # nothing written by the preview

    applied = customers_import_apply(import_id=preview.pk, by=specialist)

    first.refresh_from_db()
    second.refresh_from_db()
    assert applied.status == "applied"
    assert applied.applied_by == specialist
    assert (first.credit_limit, first.risk_rating, first.payment_terms_days) == (Decimal("75000"), "high", 45)
    assert second.history.count() == 1  # unchanged rows are not touched
    record = first.history.order_by("-history_id").first()
    assert record.history_change_reason == f"bulk import #{preview.pk}"
    assert record.history_user == specialist


def test_columns_by_label_and_parent_owner_by_natural_keys(specialist, two_customers):
    rep = user_with_role("Sales Rep", username="rep.anna")
    content = spreadsheet([
        ["Account number", "Parent", "sales_owner", "PO required"],
        ["C200002", "C200001", "rep.anna", "yes"],
    ])

    preview = customers_import_preview(file_name="x.csv", content=content, by=specialist)
    customers_import_apply(import_id=preview.pk, by=specialist)

    second = Customer.objects.get(account_number="C200002")
    assert (second.parent.account_number, second.sales_owner, second.po_required) == ("C200001", rep, True)


def test_row_errors_name_row_column_and_problem(specialist, two_customers):
    content = spreadsheet([
        ["account_number", "credit_limit", "tax_id", "status"],
        ["C200001", "1,2,3", "DE136695977", "active"],
        ["C200002", "1000", "", "on_hold"],
        ["C999999", "1000", "", "active"],
    ])

    preview = customers_import_preview(file_name="bad.csv", content=content, by=specialist)

    assert (preview.total_rows, preview.changed_rows, preview.error_rows) == (3, 0, 3)
    errors = {(r["row"], e["column"]) for r in preview.rows for e in r["errors"]}
    assert errors == {(2, "credit_limit"), (2, "tax_id"), (3, "status_reason"), (4, "account_number")}
    row4 = preview.rows[2]["errors"][0]
    assert row4["message"] == "No customer C999999."


def test_apply_is_all_or_nothing(specialist, two_customers):
    content = spreadsheet([
        ["account_number", "credit_limit"],
        ["C200001", "80000"],
        ["C200002", "12.345"],
    ])
    preview = customers_import_preview(file_name="mixed.csv", content=content, by=specialist)
    assert (preview.changed_rows, preview.error_rows) == (1, 1)

    with pytest.raises(ValidationFailed) as caught:
        customers_import_apply(import_id=preview.pk, by=specialist)

    assert caught.value.fields == {"rows": [3]}
    assert sorted(Customer.objects.values_list("credit_limit", flat=True)) == [Decimal("50000.00")] * 2
    assert CustomerImport.objects.get().status == "previewed"


def test_unknown_column_is_refused_naming_it(specialist, two_customers):
    content = spreadsheet([["account_number", "credit_limit", "favourite_colour"], ["C200001", "1", "blue"]])

    with pytest.raises(ValidationFailed) as caught:
        customers_import_preview(file_name="x.csv", content=content, by=specialist)

    assert caught.value.fields == {"columns": ["favourite_colour"]}
    assert "favourite_colour" in caught.value.message
    assert CustomerImport.objects.count() == 0


def test_key_column_required(specialist):
    content = spreadsheet([["legal_name"], ["Acme"]])

    with pytest.raises(ValidationFailed) as caught:
        customers_import_preview(file_name="x.csv", content=content, by=specialist)

    assert caught.value.fields == {"columns": ["no key column"]}


def test_unsupported_file_refused(specialist):
    with pytest.raises(ValidationFailed) as caught:
        customers_import_preview(file_name="x.pdf", content=b"%PDF", by=specialist)
    assert caught.value.fields == {"file": ["unsupported file type"]}


def test_stale_preview_is_refused(specialist, two_customers):
    first, _ = two_customers
    content = spreadsheet([["account_number", "credit_limit"], ["C200001", "80000"]])
    preview = customers_import_preview(file_name="x.csv", content=content, by=specialist)
    customer_update(customer_id=first.pk, data={"notes": "changed meanwhile"}, by=specialist)

    with pytest.raises(Conflict) as caught:
        customers_import_apply(import_id=preview.pk, by=specialist)

    assert "C200001" in caught.value.message
    first.refresh_from_db()
    assert first.credit_limit == Decimal("50000.00")


def test_match_by_crm_id(specialist):
    customer = CustomerFactory(external_crm_id="CRM-9")
    content = spreadsheet([["external_crm_id", "city"], ["CRM-9", "Hamburg"]])

    preview = customers_import_preview(file_name="x.csv", content=content, by=specialist)
    customers_import_apply(import_id=preview.pk, by=specialist)

    customer.refresh_from_db()
    assert customer.city == "Hamburg"


def test_duplicate_rows_are_errors(specialist, two_customers):
    content = spreadsheet([["account_number", "city"], ["C200001", "Hamburg"], ["C200001", "Bonn"]])

    preview = customers_import_preview(file_name="x.csv", content=content, by=specialist)

    assert preview.rows[1]["errors"] == [
        {"column": "account_number", "field": "account number", "message": "C200001 appears in an earlier row too."}
    ]


def test_apply_twice_refused(specialist, two_customers):
    content = spreadsheet([["account_number", "city"], ["C200001", "Hamburg"]])
    preview = customers_import_preview(file_name="x.csv", content=content, by=specialist)
    customers_import_apply(import_id=preview.pk, by=specialist)

    with pytest.raises(InvalidTransition):
        customers_import_apply(import_id=preview.pk, by=specialist)


@pytest.mark.parametrize("role", ["Sales Rep", "Auditor", "Collector", "Finance Manager"])
def test_import_refused_without_permission(role, two_customers):
    content = spreadsheet([["account_number", "city"], ["C200001", "Hamburg"]])

    with pytest.raises(PermissionDenied):
        customers_import_preview(file_name="x.csv", content=content, by=user_with_role(role))
    assert CustomerImport.objects.count() == 0


def test_export_round_trips_without_changes(specialist, two_customers):
    from customers.exports import customers_xlsx

    content = customers_xlsx(Customer.objects.select_related("parent", "sales_owner"))

    preview = customers_import_preview(file_name="export.xlsx", content=content, by=specialist)

    assert (preview.total_rows, preview.changed_rows, preview.error_rows) == (2, 0, 0)
