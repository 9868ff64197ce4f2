"""Sorting for list pages: a whitelist of sort keys per list, read from `?sort=` (a leading `-`
sorts descending), with the list's default and a stable tie-breaker. See `{% sort_th %}`."""

from __future__ import annotations

from django.db.models import QuerySet


def sorted_by(request, queryset: QuerySet, keys: dict[str, tuple[str, ...]], default: str) -> tuple[QuerySet, str]:
    """`keys`: {sort key: order_by fields}. Unknown keys fall back to `default`. Returns the
    ordered queryset and the sort key applied."""
    asked = request.GET.get("sort") or default
    name = asked.lstrip("-")
    if name not in keys:
        asked, name = default, default.lstrip("-")
    fields = keys[name]
    if asked.startswith("-"):
        fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
    return queryset.order_by(*fields, "-pk" if asked.startswith("-") else "pk"), asked
