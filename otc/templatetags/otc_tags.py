from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from otc.money import format_amount, money_text

register = template.Library()

# One colour per status across the whole app.
STATUS_COLOURS = {
    "active": "success", "open": "success", "approved": "success", "paid": "success", "applied": "success",
    "accepted": "success", "issued": "primary", "submitted": "info", "in_review": "info", "uploaded": "info",
    "pending": "secondary", "draft": "secondary", "inactive": "secondary", "closed": "dark", "void": "dark",
    "on_hold": "warning", "partially_paid": "warning", "changes_requested": "warning", "unapplied": "warning",
    "blocked": "danger", "rejected": "danger", "reversed": "danger", "high": "orange", "blocking": "danger",
    "superseded": "secondary", "expired": "secondary", "terminated": "dark",
    "previewed": "info", "failed": "danger",
    "requested": "info", "resubmitted": "info", "generating": "info", "issuing": "info", "generated": "primary",
    "hold": "warning", "skip": "secondary", "partially_applied": "warning", "on_account": "info", "refunded": "dark",
    "suggested": "info", "auto": "success", "manual": "primary",
    "warning": "warning", "info": "info", "low": "success", "medium": "warning",
    "new": "info", "waiting_requester": "warning", "waiting_customer": "secondary", "resolved": "primary",
    "breached": "danger", "running": "success", "paused": "secondary", "met": "primary", "normal": "secondary",
    "urgent": "danger", "threaded": "success", "held": "warning", "refused": "danger", "sent": "info",
    "written_off": "dark", "posted": "success",
}


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """{{ amount|money:currency }} -> '1,234.50 EUR' quantised to the currency's minor unit."""
    if amount is None or amount == "":
        return ""
    return money_text(Decimal(amount), currency)


@register.filter
def amount(value: Decimal | None, currency: str) -> str:
    if value is None or value == "":
        return ""
    return format_amount(Decimal(value), currency)


@register.simple_tag
def status_badge(value: str, label: str | None = None):
    colour = STATUS_COLOURS.get(str(value), "secondary")
    text = label or str(value).replace("_", " ")
    return format_html('<span class="badge text-bg-{} status-{}">{}</span>', colour, value, text)


@register.simple_tag(takes_context=True)
def query_transform(context, **kwargs) -> str:
    """Keep the current filters when changing page or sort."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.simple_tag(takes_context=True)
def page_query(context, number: int, param: str | None = None) -> str:
    """The current query with one page parameter (`page` unless the pager says otherwise, for a
    page with two paged tables) set to `number`."""
    return query_transform(context, **{param or "page": number})


@register.filter
def has_perm(user, perm: str) -> bool:
    return user.has_perm(perm)


@register.simple_tag(takes_context=True)
def sort_th(context, key: str, label: str, css: str = "", param: str = "sort", page_param: str = "page",
            title: str = "", width: str = "") -> str:
    """A sortable column header (otc.listing): a link that sorts by `key`, or by `-key` when the
    list is already sorted by it, keeping the filters and going back to page 1; an arrow marks the
    sorted column. The sort applied is the view's `context[param]` (so the default shows its
    arrow), else the query's. A second table on the page passes its own `param` and `page_param`."""
    current = str(context.get(param) or context["request"].GET.get(param, ""))
    descending = current == f"-{key}"
    target = key if descending or current != key else f"-{key}"
    arrow = " ▲" if current == key else (" ▼" if descending else "")
    sort = "ascending" if current == key else ("descending" if descending else "none")
    query = query_transform(context, **{param: target, page_param: None})
    extra = format_html(' title="{}"', title) if title else ""
    if width:
        extra = format_html('{} style="width: {}"', extra, width)
    return format_html('<th class="{}" aria-sort="{}"{}><a class="link-body-emphasis text-decoration-none" '
                       'href="?{}" data-sort="{}" data-param="{}">{}{}</a></th>', css, sort,
                       extra, query, key, param, label, arrow)


@register.simple_tag(takes_context=True)
def list_export_href(context, listing) -> str:
    """The Excel export of a list (otc.listing.sorted_page): the current filters and sort, every page.
    A list may name another export view (`export_url`, e.g. the customers' re-importable workbook)."""
    params = context["request"].GET.copy()
    params.pop(listing.page_param, None)
    if listing.export_url:
        from django.urls import reverse

        return f"{reverse(listing.export_url)}?{params.urlencode()}" if params else reverse(listing.export_url)
    params[listing.export_param] = "xlsx"
    return f"?{params.urlencode()}"


@register.filter
def may_export(user, listing) -> bool:
    """Whether the user may export the list (a list whose export needs its own permission)."""
    return not listing.export_permission or user.has_perm(listing.export_permission)
