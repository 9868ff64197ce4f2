"""The reserve in the browser: a finance manager prepares last month's reserve with the button,
the Controller approves and posts it from the calculation sheet; every reserve page fits 1280 px
and logs no console or CSP error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from collections_app.models import ReserveRun
from collections_app.services.reserve import provision_policy_create
from otc.models import ApprovalLimit
from otc.roles import CONTROLLER, FINANCE_MANAGER
from tests.browser.conftest import login, logout
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = [pytest.mark.browser]
AS_OF = dt.date(2026, 6, 30)
WIDTH = 1280


@pytest.fixture
def book(transactional_db):
    entity = reserve_entity("BR1")
    for age, amount in zip([-5, 15, 45, 75, 120], ["15000.00", "7500.00", "4000.00", "2500.00", "1000.00"],
                           strict=True):
        item_in_bucket(entity, CustomerFactory(), amount, as_of=AS_OF, days_past_due=age, currency="EUR")
    snapshot(entity, dt.date(2026, 5, 31))
    snapshot(entity, AS_OF)
    controller = user_with_role(CONTROLLER, username="carla")
    user_with_role(FINANCE_MANAGER, username="mark")
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": r} for b, r in
                                                  enumerate(["0.003", "0.016", "0.036", "0.066", "0.106"])])
    ApprovalLimit.objects.create(kind="reserve", role=Group.objects.get(name=CONTROLLER), currency="EUR",
                                 max_amount=Decimal("1000000"))
    return entity


# The pages' own content (main): the navigation bar's width is the walkthrough's concern (every app's
# entries share it).
WIDEST = """() => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _fits(page) -> None:
    assert page.evaluate("document.querySelector('main').scrollWidth") <= WIDTH, page.evaluate(WIDEST)
    assert page.evaluate(WIDEST) == []


def test_prepare_approve_post_and_every_page_fits(page, live_server, book):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.set_viewport_size({"width": WIDTH, "height": 900})
    login(page, live_server, "mark")
    page.goto(f"{live_server.url}/collections/reserve/")
    page.fill("input[name=as_of]", AS_OF.isoformat())
    with page.expect_navigation():
        page.get_by_test_id("prepare-reserve").click()
    assert "580.00" in page.get_by_test_id("matrix").inner_text()
    assert page.get_by_test_id("approve").count() == 0  # the preparer cannot approve
    _fits(page)
    logout(page)
    login(page, live_server, "carla")
    run = ReserveRun.objects.get(legal_entity=book)
    page.goto(f"{live_server.url}/collections/reserve/runs/{run.pk}/")
    with page.expect_navigation():
        page.get_by_test_id("approve").click()
    with page.expect_navigation():
        page.get_by_test_id("post").click()
    run.refresh_from_db()
    assert run.status == "posted" and run.journal_entry is not None
    assert "Posted" in page.inner_text("h1")
    for path in ("/collections/reserve/", f"/collections/reserve/runs/{run.pk}/", "/collections/reserve/policies/",
                 f"/collections/reserve/derivation/?as_of={AS_OF}&method=roll_rate",
                 f"/collections/reserve/derivation/?as_of={AS_OF}&method=loss_rate",
                 "/collections/reserve/rollforward/?first=2026-05-01&last=2026-07-31"):
        page.goto(f"{live_server.url}{path}")
        _fits(page)
        scrolled = page.evaluate("""() => [...document.querySelectorAll('.table-responsive')]
            .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1).length""")
        assert scrolled == 0, path
    assert errors == [] and page.csp_violations == []
