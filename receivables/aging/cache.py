"""Cached reads of the aging for the page and the API: a report kept per parameters, caller's
scope and state of the books, in this process and in the shared cache."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from customers.models import Customer
from ledger.models import FxRate, JournalLine
from otc.models import User

from .dimensions import DIMENSIONS
from .engine import AgingParams, AgingReport, aging_report, check_params

CACHE_SECONDS = 600


def _books_stamp() -> tuple:
    """Changes whenever anything the aging reads changes: a journal line (every posting, settlement
    and reversal writes one), a customer (names, groups, reps) or a bucket policy."""
    from django.db.models import Max

    from receivables.models import AgingPolicy

    return (
        JournalLine.objects.aggregate(m=Max("pk"))["m"],
        Customer.history.aggregate(m=Max("history_id"))["m"],
        AgingPolicy.history.aggregate(m=Max("history_id"))["m"],
        FxRate.objects.aggregate(m=Max("pk"))["m"],
    )


RECENT_REPORTS = 8  # per process: the last few reports, kept as objects (no unpickling)
_recent: OrderedDict[str, AgingReport] = OrderedDict()
_recent_lock = threading.Lock()


def recent_reports_clear() -> None:
    """Forget the per-process reports (tests: a rolled-back database hands the same ids out again)."""
    with _recent_lock:
        _recent.clear()


def _copy(report: AgingReport) -> AgingReport:
    """A copy the caller may sort and annotate (views sort rows in place) without touching the
    kept one; rows themselves are shared and never changed after they are built."""
    entities = []
    for block in report.entities:
        clone = copy.copy(block)
        clone.rows = list(block.rows)
        entities.append(clone)
    return AgingReport(params=report.params, dimension=DIMENSIONS[report.params.group_by], entities=entities)


def _shared_cache() -> Any:
    """The shared cache (Redis in production), or None when it is the process's own memory: the
    per-process level already keeps the report there without pickling it (about 0.5 s for a
    5,000-row report)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    return None if isinstance(cache, LocMemCache) else cache


def aging_report_cached(*, params: AgingParams, user: User | None) -> AgingReport:
    """`aging_report` kept per parameters, caller's scope and state of the books: any posting,
    customer change, bucket change or new FX rate makes a new key, so a kept report is never
    stale; the first view after a posting pays the full cost. Two levels: the last
    `RECENT_REPORTS` reports of this process as objects (a repeated view costs the five queries
    of the key), then the shared cache for ten minutes (pickled; other processes)."""
    import hashlib

    check_params(params)
    if not DIMENSIONS[params.group_by].cacheable:
        return aging_report(params=params, user=user)
    scope = "all" if user is None or user.has_perm("customers.view_all_customers") else f"user:{user.pk}"
    key = "aging:" + hashlib.sha256(repr((params, scope, _books_stamp())).encode()).hexdigest()
    with _recent_lock:
        report = _recent.get(key)
        if report is not None:
            _recent.move_to_end(key)
    if report is None:
        shared = _shared_cache()
        report = shared.get(key) if shared is not None else None
        if report is None:
            report = aging_report(params=params, user=user)
            if shared is not None:
                report.dimension = None  # functions do not pickle; put back below
                shared.set(key, report, CACHE_SECONDS)
        report.dimension = DIMENSIONS[params.group_by]
        with _recent_lock:
            _recent[key] = report
            while len(_recent) > RECENT_REPORTS:
                _recent.popitem(last=False)
    return _copy(report)
