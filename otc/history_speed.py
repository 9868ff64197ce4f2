"""django-simple-history builds its history manager class anew on every `obj.history` /
`Model.history` access (`HistoryDescriptor.__get__` calls `Manager.from_queryset`, which copies the
queryset's methods onto a new class: about 1 ms). Saving a model with history reads that attribute
once per historical row, so every audited save paid for a new class. The class depends only on the
descriptor's manager and queryset classes: `install()` (called from `OtcConfig.ready`) makes the
descriptor build it once per pair and keep it. Each access still returns a new manager instance
bound to its model and instance, as before (decision 0018, session 9: about a tenth of the test
suite's CPU, and the same share of every audited write in production)."""

from __future__ import annotations

import functools

from simple_history.manager import HistoryDescriptor


@functools.cache
def _manager_class(manager_class: type, queryset_class: type) -> type:
    return manager_class.from_queryset(queryset_class)


def _get(self, instance, owner):
    return _manager_class(self.manager_class, self.queryset_class)(self.model, instance)


def install() -> None:
    if HistoryDescriptor.__get__ is not _get:
        HistoryDescriptor.__get__ = _get
