"""Sorting for list pages, one mechanism for all of them (decision 0012).

Each list declares its sort keys once, at import time, with `sortable()`: a whitelist of
{key: order_by fields} (or, for a list built in Python, {key: function of a row}) and a default.
The view reads `?sort=key` (a leading `-` sorts descending) through `.order()` / `.order_rows()`;
an unknown key falls back to the default, and a stable tie-breaker keeps pages from overlapping.
The template's headers are `{% sort_th "key" "Label" %}` (a link with an arrow on the sorted
column, keeping the filters and going back to page 1).

Every declared list is in `LISTS` by its URL name, so one test walks every list with each key
(tests/otc/test_sortable_lists.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

LISTS: dict[str, SortableList] = {}


@dataclass(frozen=True)
class SortableList:
    """The sort keys of one list page (`url_name`, e.g. "billing:invoices"). `param` is the query
    parameter (a page with two sortable tables gives the second its own); `tiebreak` the fields that
    keep equal rows in a stable order (a grouped `values()` list names its grouping fields, since
    ordering by the pk would split its groups)."""

    url_name: str
    keys: Mapping[str, Any]
    default: str
    param: str = "sort"
    page_param: str = "page"
    tiebreak: tuple[str, ...] = ("pk",)

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
    LISTS[url_name] = sorts
    return sorts


def sorted_by(request, queryset: QuerySet, keys: dict[str, tuple[str, ...]], default: str) -> tuple[QuerySet, str]:
    """`keys`: {sort key: order_by fields}. Unknown keys fall back to `default`. Returns the
    ordered queryset and the sort key applied. (An undeclared list; prefer `sortable()`.)"""
    return SortableList("", keys, default).order(request, queryset)
