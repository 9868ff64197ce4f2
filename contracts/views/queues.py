"""The work queues: awaiting my review, changes requested, approved this month. Each row is a
contract version with the value and highest severity of its stored assessment, in a fixed
number of queries however long the queue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..selectors import approved_this_month, changes_requested_queue, review_queue
from ._shared import attach_latest_assessment

PAGE_SIZE = 50

QUEUES = {
    "review": {"title": "Awaiting my review", "url": "contracts:queue_review",
               "empty": "Nothing is waiting for your decision."},
    "changes": {"title": "Changes requested", "url": "contracts:queue_changes",
                "empty": "No contract is waiting for changes."},
    "approved": {"title": "Approved this month", "url": "contracts:queue_approved",
                 "empty": "No contract approved this month yet."},
}


def _render(request: HttpRequest, key: str, rows: QuerySet | list) -> HttpResponse:
    """One page of a queue; the rows of the page get their entity and latest assessment in
    one query each, however many rows there are."""
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    versions = list(page_obj.object_list)
    prefetch_related_objects(versions, "contract__legal_entity")
    attach_latest_assessment(versions)
    page_obj.object_list = versions
    queue = QUEUES[key]
    return render(request, "contracts/queue.html", {
        "queue_key": key, "queue": queue, "queues": QUEUES, "page_obj": page_obj,
        "is_reviewer": request.user.has_perm("contracts.review_contract"),
    })


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
