"""The walkthrough of issue 16, repeated in the suite: each demo role logs in to a (smaller)
demo and opens the pages of its day. Every page answers, logs no console error and fits a
1280 px wide window without horizontal scrolling.

The demo (about 40 customers) is seeded once and one test walks every role through it (the live
server makes each test transactional, so one test per role would seed nine times); each problem
is reported with its role and page. One live server (pytest-django's) serves the suite.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from demo.users import DEMO_PASSWORD
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDTH = 1280


@pytest.fixture
def demo(transactional_db):
    """The demo (about 40 customers). pytest-django's live server makes every test that uses it
    transactional (the database is flushed after each), so the walkthrough is one test that
    seeds once and walks every role's pages, reporting each problem with its role and page."""
    call_command("seed_demo", customers=40, verbosity=0)
    return _objects()


def _objects() -> dict[str, int]:
    from billing.models import BillingRun, Invoice
    from contracts.models import Contract
    from customers.models import Customer
    from ledger.models import LegalEntity
    from receivables.models import Receipt

    def first(queryset) -> int:
        found = queryset.order_by("pk").values_list("pk", flat=True).first()
        assert found is not None, f"The demo has no {queryset.model.__name__} for the walkthrough."
        return found

    return {
        "run": first(BillingRun.objects.filter(status="generated")),
        "invoice": first(Invoice.objects.filter(status__in=["issued", "partially_paid", "paid"])),
        "sales1_invoice": first(Invoice.objects.filter(customer__sales_owner__username="sales1", status="issued")),
        "contract": first(Contract.objects.filter(current_version__status__in=["submitted", "in_review"])),
        "active_contract": first(Contract.objects.filter(status="active")),
        "customer": first(Customer.objects.all()),
        "sales1_customer": first(Customer.objects.filter(sales_owner__username="sales1")),
        "receipt": first(Receipt.objects.filter(status="unapplied")),
        "entity": first(LegalEntity.objects.filter(code="US01")),
    }


def pages_of(role: str, ids: dict[str, int]) -> list[str]:
    """The pages each demo role uses in a working day (issue 16's walkthrough). sales2 and sales3
    hold sales1's role (the same pages, their own customers); admin is the superuser."""
    home = [reverse("home")]
    invoice = reverse("billing:invoice_detail", args=[ids["invoice"]])
    return {
        "controller": [*home, reverse("approval_limits"), reverse("ledger:periods", args=[ids["entity"]]), reverse("ledger:fx_rates"), reverse("ledger:ar_by_customer"),
                       reverse("ledger:trial_balance"), reverse("ledger:ar_reconciliation"), reverse("billing:runs")],
        "manager": [*home, reverse("contracts:queue_review"), reverse("billing:credit_notes") + "?awaiting_me=on",
                    reverse("ledger:ar_by_customer"), invoice, reverse("collections_app:manager")],
        "reviewer": [*home, reverse("contracts:queue_review"), reverse("contracts:detail", args=[ids["contract"]]),
                     reverse("contracts:detail", args=[ids["active_contract"]]), reverse("contracts:list")],
        "billing": [*home, reverse("billing:runs"), reverse("billing:run_detail", args=[ids["run"]]),
                    reverse("billing:run_issue", args=[ids["run"]]), reverse("billing:invoices"), invoice,
                    reverse("billing:credit_notes"), reverse("billing:portal"), reverse("customers:list")],
        "cashapp": [*home, reverse("receivables:workbench"), reverse("receivables:receipt_detail", args=[ids["receipt"]]),
                    reverse("receivables:imports"), reverse("receivables:bank_accounts")],
        "collector": [*home, reverse("ledger:ar_by_customer"), reverse("customers:list"),
                      reverse("customers:detail", args=[ids["customer"]]),
                      reverse("collections_app:worklist"), reverse("collections_app:customer", args=[ids["customer"]])],
        "helpdesk": [*home, reverse("helpdesk:index"), reverse("customers:list"), invoice],
        "auditor": [*home, reverse("billing:invoices"), invoice, reverse("contracts:list"), reverse("ledger:journal_list"),
                    reverse("receivables:workbench")],
        "admin": [*home, reverse("approval_limits"), reverse("billing:invoices"), invoice, reverse("receivables:workbench"),
                  reverse("customers:list")],
        "sales1": [*home, reverse("customers:list"), reverse("customers:detail", args=[ids["sales1_customer"]]),
                   reverse("contracts:list"), reverse("billing:invoice_detail", args=[ids["sales1_invoice"]])],
    }[role]


ROLES = ["admin", "controller", "manager", "reviewer", "billing", "cashapp", "collector", "helpdesk", "auditor", "sales1"]


def test_each_demo_role_walks_its_pages_without_errors_within_1280_px(page, live_server, demo):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    page.on("pageerror", lambda exc: errors.append(f"script: {exc}"))
    problems = []
    for role in ROLES:
        page.context.clear_cookies()
        login(page, live_server, role, DEMO_PASSWORD)
        for path in pages_of(role, demo):
            errors.clear()
            response = page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("load")
            status = response.status if response else 0
            layout = page.evaluate(LAYOUT, WIDTH)  # one round trip to the browser for the page's measures
            if status >= 400:
                problems.append(f"{role} {path}: HTTP {status}")
            if layout["width"] > WIDTH:
                problems.append(f"{role} {path}: {layout['width']} px wide ({layout['widest']})")
            if layout["scrolling"]:
                problems.append(f"{role} {path}: tables scroll sideways ({layout['scrolling']})")
            if layout["tall"]:
                problems.append(f"{role} {path}: workbench rows taller than 80 px ({layout['tall']})")
            problems.extend(f"{role} {path}: {error}" for error in errors)
    assert page.offsite_requests == []
    assert problems == [], "\n".join(problems)


# What the walk measures on each page, in one call to the browser: the document's width (and, when
# it is wider than the window, its widest elements); the tables cut off inside their scroll box
# (.table-responsive: they do not widen the page but still hide columns); and the cash workbench's
# receipt rows taller than 80 px (issue 16: about 25 receipts took 3,800 px;
# tests/browser/test_workbench_compact.py measures it on a crafted page, this on the demo's).
LAYOUT = """limit => ({
    width: document.documentElement.scrollWidth,
    widest: document.documentElement.scrollWidth <= limit ? [] : [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)),
    scrolling: [...document.querySelectorAll('.table-responsive')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
        .map(e => (e.querySelector('table')?.dataset.testid || e.querySelector('table')?.id || 'table')
                  + ' ' + e.scrollWidth + '>' + e.clientWidth),
    tall: [...document.querySelectorAll('[data-testid=workbench] tr[data-receipt]')]
        .map(r => Math.round(r.getBoundingClientRect().height)).filter(h => h > 80),
})"""
