"""The work queues: awaiting my review, changes requested, approved this month. Each row is a
contract version with the value and highest severity of its stored assessment, in a fixed
number of queries however long the queue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse

from otc.listing import sortable, sorted_page

from ..selectors import approved_this_month, changes_requested_queue, review_queue
from ._shared import attach_latest_assessment
from .contracts import SEVERITY_RANK

PAGE_SIZE = 50

QUEUES = {
    "review": {"title": "Awaiting my review", "url": "contracts:queue_review",
               "empty": "Nothing is waiting for your decision."},
    "changes": {"title": "Changes requested", "url": "contracts:queue_changes",
                "empty": "No contract is waiting for changes."},
    "approved": {"title": "Approved this month", "url": "contracts:queue_approved",
                 "empty": "No contract approved this month yet."},
}


def _assessed(attribute: str):
    return lambda version: getattr(version.latest_assessment, attribute, None)


def _value(attribute: str):
    """Money sorts within its currency: (currency, amount)."""
    return lambda v: None if v.latest_assessment is None else (v.currency, getattr(v.latest_assessment, attribute))


QUEUE_KEYS = {
    "contract": lambda v: v.contract.number, "customer": lambda v: v.contract.customer.legal_name.lower(),
    "owner": lambda v: v.contract.sales_owner.username if v.contract.sales_owner else None,
    "version": lambda v: v.version,
    "risk": lambda v: None if v.latest_assessment is None else SEVERITY_RANK.get(v.latest_assessment.highest_severity, -1),
    "submitted": lambda v: v.submitted_at, "first_year": _value("annual_value"), "value": _value("contract_value"),
}
QUEUE_SORTS = {key: sortable(queue["url"], QUEUE_KEYS, default="submitted" if key == "review" else "-submitted")
               for key, queue in QUEUES.items()}


def _render(request: HttpRequest, key: str, rows: QuerySet | list) -> HttpResponse:
    """The queue sorted by any column, then paged. A queue is short (what waits for a decision,
    what was approved this month): its rows get their entity and latest assessment in one query
    each, then sort in Python (the risk and values come from the stored assessment)."""
    versions = list(rows)
    prefetch_related_objects(versions, "contract__legal_entity", "contract__customer", "contract__sales_owner")
    attach_latest_assessment(versions)
    return sorted_page(request, QUEUE_SORTS[key], versions, "contracts/queue.html", {
        "queue_key": key, "queue": QUEUES[key], "queues": QUEUES,
        "is_reviewer": request.user.has_perm("contracts.review_contract"),
    }, page_size=PAGE_SIZE)


@login_required
@permission_required("contracts.review_contract", raise_exception=True)
def queue_review(request: HttpRequest) -> HttpResponse:
    """Versions whose next approval level the user may decide."""
    return _render(request, "review", review_queue(request.user))


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def queue_changes(request: HttpRequest) -> HttpResponse:
    """Sales reps: their contracts sent back. Reviewers: what they sent back."""
    return _render(request, "changes", changes_requested_queue(request.user))


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def queue_approved(request: HttpRequest) -> HttpResponse:
    return _render(request, "approved", approved_this_month(request.user))
