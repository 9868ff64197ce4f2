"""The list component: sorting, paging, totals and the Excel export of every list page, one
mechanism for all of them (decisions 0012 and 0020).

Each list declares its sort keys once, at import time, with `sortable()`: a whitelist of
{key: order_by fields} (or, for a list built in Python, {key: function of a row}) and a default.
The view reads `?sort=key` (a leading `-` sorts descending) through `.order()` / `.order_rows()`;
an unknown key falls back to the default, and a stable tie-breaker keeps pages from overlapping.
The template's headers are `{% sort_th "key" "Label" %}` (a link with an arrow on the sorted
column, keeping the filters and going back to page 1).

The view ends with `sorted_page(request, SORTS, rows, template, context, totals=...)`: it sorts,
pages, adds the totals per currency and renders, or with `?export=xlsx` answers the workbook of
every filtered row in that order, built from the page's own table; the template follows the table
with `{% include "includes/list_footer.html" %}` (pager, row count, export link).

Every declared list is in `LISTS` by its URL name, so one test walks every list with each key, its
footer and its export, and fails for a page with a table that is not declared
(tests/otc/test_sortable_lists.py)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from lxml import html as lxml_html
from openpyxl import Workbook

from otc import dates
from otc.exports import workbook_bytes

LISTS: dict[str, SortableList] = {}


@dataclass(frozen=True)
class SortableList:
    """The sort keys of one list page (`url_name`, e.g. "billing:invoices"). `param` is the query
    parameter (a page with two sortable tables gives the second its own); `tiebreak` the fields that
    keep equal rows in a stable order (a grouped `values()` list names its grouping fields, since
    ordering by the pk would split its groups). `export_param` asks `sorted_page` for the workbook
    (`?export=xlsx`); `export_url` names another view that exports the list (the customers'
    re-importable workbook); `table` names a second list on one page (its key in `LISTS`)."""

    url_name: str
    keys: Mapping[str, Any]
    default: str
    param: str = "sort"
    page_param: str = "page"
    export_param: str = "export"
    export_url: str = ""
    export_permission: str = ""
    table: str = ""
    tiebreak: tuple[str, ...] = ("pk",)

    @property
    def key(self) -> str:
        """Its name in `LISTS`: the URL name, with `#table` for a second list on the page."""
        return f"{self.url_name}#{self.table}" if self.table else self.url_name

    def asked(self, request) -> str:
        asked = request.GET.get(self.param) or self.default
        return asked if asked.lstrip("-") in self.keys else self.default

    def order(self, request, queryset: QuerySet) -> tuple[QuerySet, str]:
        """The queryset in the asked order, and the sort applied (for the headers)."""
        asked = self.asked(request)
        fields = self.keys[asked.lstrip("-")]
        if asked.startswith("-"):
            fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
        tiebreak = tuple(f"-{f}" if asked.startswith("-") else f for f in self.tiebreak)
        return queryset.order_by(*fields, *tiebreak), asked

    def order_rows(self, request, rows: Iterable[Any]) -> tuple[list[Any], str]:
        """Rows built in Python, sorted by the key's function; empty values (None) last in both
        directions. Python's sort is stable: rows keep their given order on ties."""
        asked = self.asked(request)
        value: Callable[[Any], Any] = self.keys[asked.lstrip("-")]
        rows = list(rows)
        present = [row for row in rows if value(row) is not None]
        missing = [row for row in rows if value(row) is None]
        present.sort(key=value, reverse=asked.startswith("-"))
        return present + missing, asked


def sortable(url_name: str, keys: Mapping[str, Any], default: str, **options: Any) -> SortableList:
    """Declare (and register) the sort keys of a list page."""
    if default.lstrip("-") not in keys:
        raise ValueError(f"{url_name}: the default sort {default!r} is not one of its keys")
    sorts = SortableList(url_name, keys, default, **options)
    LISTS[sorts.key] = sorts
    return sorts


def sorted_by(request, queryset: QuerySet, keys: dict[str, tuple[str, ...]], default: str) -> tuple[QuerySet, str]:
    """`keys`: {sort key: order_by fields}. Unknown keys fall back to `default`. Returns the
    ordered queryset and the sort key applied. (An undeclared list; prefer `sortable()`.)"""
    return SortableList("", keys, default).order(request, queryset)


# --- the list page: sort -> paginate -> totals -> render, or the Excel export of every row ---------

EXPORT_VALUE = "xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MONEY = re.compile(r"^(-?[\d,]*\d(?:\.(\d+))?) ([A-Z]{3})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*|0)(?:\.\d+)?$")  # "1,234.50", "12", not "0042"
_ARROWS = str.maketrans("", "", "▲▼")


def export_cap() -> int:
    """Most rows one list export writes (`OTC_LIST_EXPORT_MAX_ROWS`, a plausible limit, decision 0013)."""
    return int(settings.OTC_LIST_EXPORT_MAX_ROWS)


def export_refusal(request: HttpRequest, count: int, *, back: str, drop: str = "") -> HttpResponse | None:
    """None if `count` rows may be exported; else back to the list (its filters kept, `drop`
    removed) with a message that says the cap."""
    cap = export_cap()
    if count <= cap:
        return None
    messages.error(request, f"{count:,} rows match: an export holds at most {cap:,}. Narrow the filters and export again.")
    query = request.GET.copy()
    query.pop(drop, None)
    return redirect(f"{back}?{query.urlencode()}" if query else back)


def sorted_page(request: HttpRequest, listing: SortableList, rows: QuerySet | Iterable[Any], template: str,
                context: dict[str, Any] | None = None, *, totals: Callable[[Any], Any] | None = None,
                page_size: int = 50, hydrate: Callable[[list[Any]], list[Any]] | None = None,
                page_name: str = "page_obj", export: Callable[[Any], HttpResponse] | None = None,
                also: Mapping[str, tuple[SortableList, QuerySet | Iterable[Any]]] | None = None) -> HttpResponse:
    """One list page (decision 0020): `rows` (already filtered and scoped to the user) sorted by the
    asked key, paged, with `totals(rows)` (per currency and converted, `ledger.selectors.currency_totals`)
    as `totals`; rendered with `template`, whose table draws `{% sort_th %}` headers and ends with
    `{% include "includes/list_footer.html" %}` (pager, row count, export link).

    `?export=xlsx` (the listing's `export_param`) answers the Excel workbook of every filtered row
    in the same order instead (up to `export_cap()`): the same template renders all rows and the
    list's table becomes the sheet, so the export shows exactly the page's columns. `hydrate` turns
    a page's rows into what the template shows (a list paged by primary key). A list whose export
    has its own columns (one that re-imports, the worklist's scores) passes `export(ordered rows)`,
    called under the same cap. `also` {page name: (listing, rows)}: the other lists of the page (a
    settings table beside the main list), each sorted, paged and exported by its own parameters and
    footed by `{% include "includes/list_footer.html" with page_obj=<name> listing=<name>_listing %}`."""
    context = dict(context or {})
    lists = [(listing, rows, page_name, "listing", totals, hydrate, page_size, export)]
    lists += [(other, other_rows, name, f"{name}_listing", None, None, page_size, None)
              for name, (other, other_rows) in (also or {}).items()]
    pending = []
    for one, its_rows, name, listing_name, its_totals, its_hydrate, size, its_export in lists:
        if isinstance(its_rows, QuerySet):
            if its_totals is not None:
                context["totals"] = its_totals(its_rows)
            ordered, sort = one.order(request, its_rows)
        else:
            its_rows = list(its_rows)
            if its_totals is not None:
                context["totals"] = its_totals(its_rows)
            ordered, sort = one.order_rows(request, its_rows)
        context[one.param] = sort
        context[listing_name] = one
        pending.append((one, ordered, name, its_hydrate, size, its_export))
    for one, ordered, name, its_hydrate, size, _its_export in pending:
        page = Paginator(ordered, size).get_page(request.GET.get(one.page_param))
        if its_hydrate is not None:
            page.object_list = its_hydrate(list(page.object_list))
        context[name] = page
    for one, ordered, name, its_hydrate, _size, its_export in pending:
        if request.GET.get(one.export_param) == EXPORT_VALUE:
            return _export(request, one, ordered, template, context, hydrate=its_hydrate, page_name=name,
                           export=its_export)
    return render(request, template, context)


def _export(request: HttpRequest, listing: SortableList, ordered, template: str, context: dict[str, Any], *,
            hydrate, page_name: str, export) -> HttpResponse:
    if listing.export_permission and not request.user.has_perm(listing.export_permission):
        raise PermissionDenied  # the same permission as the list's own export view
    count = ordered.count() if isinstance(ordered, QuerySet) else len(ordered)
    if (refused := export_refusal(request, count, back=request.path, drop=listing.export_param)) is not None:
        return refused
    if export is not None:
        return export(ordered)
    page = Paginator(ordered, max(count, 1)).get_page(1)
    if hydrate is not None:
        page.object_list = hydrate(list(page.object_list))
    context[page_name] = page
    context["exporting"] = True
    content = render_to_string(template, context, request=request)
    header, body, footer = list_table(content, listing.param)
    book = Workbook()
    sheet = book.active
    sheet.title = "List"
    _write(sheet, [header, *body], header=True)
    if footer:
        _write(book.create_sheet("Totals"), footer, header=False)
    name = listing.key.replace(":", "-").replace("_", "-").replace("#", "-")
    filename = f"{name}-{dates.today():%Y%m%d}.xlsx"
    response = HttpResponse(workbook_bytes(book), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def list_table(content: str, param: str = "sort") -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The list's table in a rendered page (the table whose headers sort with `param`): its header
    texts, its data rows and its footer rows (totals), as text. A column whose header says
    `data-export="no"` (row actions) is left out; the empty-list row (`panel-empty`) is no row."""
    tree = lxml_html.fromstring(content)
    for table in tree.iter("table"):
        links = table.xpath(".//thead//a[@data-sort]")
        if links and all(a.get("data-param") == param for a in links):
            break
    else:
        raise ValueError(f"no table sorted by ?{param}=")
    heads = table.xpath("./thead/tr[last()]/th|./thead/tr[last()]/td")
    skip = {i for i, th in enumerate(heads) if th.get("data-export") == "no"}
    header = [_text(th).translate(_ARROWS).strip() for i, th in enumerate(heads) if i not in skip]

    def cells(tr) -> list[str]:
        out: list[str] = []
        for cell in tr.xpath("./th|./td"):
            out.append(_text(cell))
            out.extend([""] * (int(cell.get("colspan") or 1) - 1))
        return [value for i, value in enumerate(out) if i not in skip]

    body = [cells(tr) for tr in table.xpath("./tbody/tr")
            if not tr.xpath("./td[contains(@class, 'panel-empty')]") and tr.get("data-export") != "no"]
    footer = [cells(tr) for tr in table.xpath("./tfoot/tr")]
    return header, body, footer


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _write(sheet, rows: list[list[str]], *, header: bool) -> None:
    """Rows of text into the sheet: amounts shown as "1,234.50 EUR" become numbers displayed with
    their currency, plain numbers ("1,234.50", "12"; not a code with a leading zero) numbers,
    ISO dates dates; the rest stays text (neutralised on save)."""
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            data = r > 1 or not header
            money_match = _MONEY.match(text) if data else None
            if money_match:
                places = len(money_match.group(2) or "")
                cell.value = Decimal(money_match.group(1).replace(",", ""))
                cell.number_format = f'#,##0{"." + "0" * places if places else ""} "{money_match.group(3)}"'
            elif data and _NUMBER.match(text):
                cell.value = Decimal(text.replace(",", "")) if "." in text else int(text.replace(",", ""))
                if "." in text:
                    cell.number_format = "#,##0." + "0" * len(text.split(".")[1])
            elif data and _DATE.match(text):
                cell.value = datetime.date.fromisoformat(text)
                cell.number_format = "yyyy-mm-dd"
            else:
                cell.value = text
