"""Every list page sorts by each of its columns, with one mechanism (otc.listing, decision 0012),
and is the one list component (otc.listing.sorted_page, decision 0020).

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

Then each list's footer (`includes/list_footer.html`): the pager with the row count is there, and
its export link answers an .xlsx workbook holding exactly that many rows (every page, in order).
And a page with a table that is not declared fails: every HTML page without URL arguments is
opened, and one showing a table must be a declared list or be named in NOT_LISTS with the reason.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import get_resolver, reverse
from lxml import html
from openpyxl import load_workbook

from otc.listing import LISTS
from otc.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _args(name: str) -> list:
    """URL arguments of the lists that belong to one object."""
    if name in ("ledger:accounts", "ledger:periods"):
        from ledger.models import LegalEntity

        return [LegalEntity.objects.order_by("code").first().pk]
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
        if links and all(a.get("data-param") == param and f"{param}=" in a.get("href") for a in links):
            rows = [_identity(tr) for tr in table.xpath("./tbody/tr")
                    if not tr.xpath("./td[contains(@class, 'panel-empty')]")]
            return table, rows
    raise AssertionError(f"no table sorted by ?{param}=")


def _identity(tr) -> str:
    """A row by its first link (stable), else its text (whitespace folded)."""
    links = tr.xpath(".//a/@href")
    return links[0] if links else " ".join(tr.text_content().split())


def _last_page(page: str, sorts=None) -> int:
    """The number of pages of the list (its own footer, on a page with two lists)."""
    if sorts is not None:
        for footer in html.fromstring(page).xpath("//*[@data-testid='list-footer']"):
            if footer.get("data-list") == sorts.url_name and (footer.get("data-table") or "") == sorts.table:
                page = footer.text_content()
                break
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
        url = reverse(sorts.url_name, args=_args(sorts.url_name))
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
                last = _last_page(content, sorts)
                # only the ascending order's last page is compared (below), and not for lists sorted in Python
                last_rows = rows if last == 1 or mark == "descending" or in_python else _table(
                    client.get(url, {sorts.param: asked, page_param: last}).content.decode(), sorts.param)[1]
                pages[asked] = (rows, last_rows, last)
            if len(pages) < 2 or in_python:
                continue
            (asc, asc_last, n), (desc, _, _) = pages[key], pages[f"-{key}"]
            if asc and desc[0] != asc_last[-1]:
                problems.append(f"{name} by {key}: first row descending {desc[0]!r} is not the last ascending "
                                f"{asc_last[-1]!r}")
            if n == 1 and desc != asc[::-1]:
                problems.append(f"{name} by {key}: descending is not ascending reversed")
    # a key nobody declared sorts by the default, it does not fail
    response = client.get(reverse("billing:invoices"), {"sort": "-password"})
    assert response.status_code == 200 and 'data-sort="issued" data-param="sort">Issued ▼' in response.content.decode()
    assert problems == [], "\n".join(problems)
    # the demo fills the lists a finance team works from (some are empty in a 20-customer demo)
    assert "billing:invoices" not in empty and "ledger:journal_list" not in empty, empty
    assert _footer_and_export_problems(client) == []
    assert _undeclared_lists(client) == []


def _footer_and_export_problems(client) -> list[str]:
    """Every declared list ends with the one footer, whose export holds every filtered row."""
    problems = []
    for name, sorts in sorted(LISTS.items()):
        url = reverse(sorts.url_name, args=_args(sorts.url_name))
        # descending by the first key: the export keeps the order asked, not only the default
        asked = f"-{sorted(sorts.keys)[0]}"
        page = client.get(url, {sorts.param: asked}).content.decode()
        tree = html.fromstring(page)
        footers = [f for f in tree.xpath("//*[@data-testid='list-footer']")
                   if f.get("data-list") == sorts.url_name and (f.get("data-table") or "") == sorts.table]
        if not footers:
            problems.append(f"{name}: no list footer")
            continue
        pager = footers[0].xpath(".//ul[contains(@class, 'pagination')]")
        count = re.search(r"· (\d+) rows?", footers[0].text_content())
        if not pager or not count:
            problems.append(f"{name}: the footer has no pager with a row count")
            continue
        count = int(count.group(1))
        links = footers[0].xpath(".//a[@data-testid='list-export']")
        if count == 0:
            if links:
                problems.append(f"{name}: an export link on an empty list")
            continue
        if not links:
            problems.append(f"{name}: no export link")
            continue
        href = links[0].get("href")
        response = client.get(href if href.startswith("/") else url + href)
        if response.status_code != 200 or response["Content-Type"] != XLSX:
            problems.append(f"{name}: export answered {response.status_code} {response.get('Content-Type')}")
            continue
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if any(v not in (None, "") for v in r)]
        if len(rows) != count:
            problems.append(f"{name}: the export holds {len(rows)} rows, the list {count}")
    return problems


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Pages that show a table but are not lists: reports with fixed rows, dashboards, forms.
NOT_LISTS = {
    "home": "the role's home page (panels, another engineer's area)",
    "ledger:trial_balance": "a report: one row per account, totals checked",
    "ledger:ar_reconciliation": "a report: one row per account and currency, the difference must be zero",
    "receivables:aging": "the aging report (buckets per customer) with its own workbook",
    "receivables:kpis": "a report of figures",
    "receivables:aging_buckets": "a settings form per entity",
    "collections_app:manager": "the collections manager's dashboard",
    "collections_app:reserve_derivation": "a report (the reserve's derivation)",
    "collections_app:reserve_rollforward": "a report (the reserve's roll-forward)",
    "helpdesk:metrics": "a report of figures, with its own workbook",
    "billing:invoice_create": "a form (the invoice's lines)",
    "ledger:journal_new": "a form (the journal's lines)",
    "contracts:create": "a form (the contract's lines)",
    "collections_app:writeoffs-request": "a form (the customer's open items to write off)",
    "contracts:policy": "a matrix of policy values per entity, not rows",
    "collections_app:reserve_policies": "an entity's policy versions and specific reserves, edited in place "
                                        "(not yet on the component)",
}


def _html_url_names() -> list[str]:
    """Names of the HTML pages that take no URL argument (not the admin, not the API)."""
    from django.urls import URLPattern, URLResolver

    names = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            path = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if (pattern.namespace or "") == "admin" or path.startswith("api"):
                    continue
                walk(pattern.url_patterns, path, ":".join(n for n in (namespace, pattern.namespace) if n) or None)
            elif isinstance(pattern, URLPattern) and pattern.name and "<" not in path and "(?P" not in path:
                names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "", None)
    return sorted(set(names))


def _undeclared_lists(client) -> list[str]:
    declared = {sorts.url_name for sorts in LISTS.values()}
    # an exception for a page that is a declared list is stale: it would hide that page's table if
    # the page left the component
    problems = [f"{name}: a declared list, but still excused in NOT_LISTS" for name in sorted(declared & set(NOT_LISTS))]
    for name in _html_url_names():
        if name in declared or name in NOT_LISTS:
            continue
        response = client.get(reverse(name))
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        tree = html.fromstring(response.content.decode())
        if tree.xpath("//table[thead]"):
            problems.append(f"{name}: shows a table but is not a declared list (otc.listing.sortable) "
                            "nor in NOT_LISTS")
    return problems
