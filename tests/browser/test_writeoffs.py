"""Write-offs in the browser: a collector requests one with evidence, a Finance Manager approves
and posts it with the buttons; every write-off page fits 1280 px with no sideways-scrolling table
and no console error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from collections_app.models import WriteOff
from collections_app.services.writeoffs import small_balance_batch_propose
from tests.browser.conftest import login
from tests.factories.collections_writeoffs import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTH = 1280


def fits(page) -> list[str]:
    problems = []
    if page.evaluate("document.documentElement.scrollWidth") > WIDTH:
        problems.append(f"{page.url}: wider than {WIDTH}px")
    scrolled = page.evaluate("""() => [...document.querySelectorAll('.table-responsive')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1).length""")
    if scrolled:
        problems.append(f"{page.url}: {scrolled} table(s) scroll sideways")
    return problems


def test_request_approve_and_post_in_the_browser(page, live_server, today, tmp_path):
    today(dt.date(2026, 6, 30))
    b = book()
    from collections_app.models import WriteOffPolicy

    WriteOffPolicy.objects.create(legal_entity=b["entity"], small_balance_enabled=True, small_balance_max=600,
                                  small_balance_min_age_days=30)
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    invoice = b["invoices"][0]
    login(page, live_server, b["collector"].username)
    page.goto(f"{live_server.url}{reverse('collections_app:writeoffs-request')}?customer={b['customer'].pk}")
    problems = fits(page)
    page.check(f"#item-{invoice.open_item_id}")
    page.select_option("#id_reason", "bankruptcy")
    page.fill("#id_explanation", "Insolvency filed")
    evidence = tmp_path / "notice.pdf"
    evidence.write_bytes(b"%PDF-1.4 notice")
    page.set_input_files("#id_evidence", str(evidence))
    with page.expect_navigation():
        page.click("button:has-text('Request write-off')")
    assert page.locator("[data-testid=writeoff-status]").inner_text().strip() == "Submitted"
    assert "notice.pdf" in page.locator("[data-testid=attachments]").inner_text()
    detail = page.url
    problems += fits(page)

    page.context.clear_cookies()
    login(page, live_server, b["manager"].username)
    page.goto(detail)
    with page.expect_navigation():
        page.click("button:has-text('Approve')")
    with page.expect_navigation():
        page.click("button:has-text('Post on')")
    assert page.locator("[data-testid=writeoff-status]").inner_text().strip() == "Posted"
    assert WriteOff.objects.get().journal_entry is not None
    problems += fits(page)
    small_balance_batch_propose(legal_entity_id=b["entity"].pk, by=b["collector"])
    for name in ("writeoffs-list", "writeoffs-batches"):
        page.goto(f"{live_server.url}{reverse(f'collections_app:{name}')}")
        problems += fits(page)
    with page.expect_navigation():  # measure the batch page, not the list while it unloads
        page.click("[data-testid=batch-table] a")
    problems += fits(page)
    assert problems == [] and errors == []
