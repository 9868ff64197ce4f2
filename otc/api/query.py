"""Query parameters are a contract too: an unknown parameter (`overdue=1` where no such filter
exists, a misspelt filter name) or a malformed value is a 400, never an unfiltered list.

Every API view inherits this from `OtcGenericViewSet` / `OtcAPIView`: the allowed names come
from the view's filter backends (the filterset's filters, `ordering`, `search`), its paginator
(`page`, `page_size`) and `extra_query_params` for views that read their own."""

from __future__ import annotations

import re

import django_filters
from rest_framework import serializers
from rest_framework.filters import OrderingFilter, SearchFilter

ALWAYS = frozenset({"format"})  # DRF's renderer override (?format=json)
_BOOLEAN = {"true", "false"}
_NUMBER = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,6})?", re.ASCII)  # fits a bigint; no exponents


def _filterset_class(view, backend):
    get = getattr(backend, "get_filterset_class", None)
    if get is None:
        return None
    try:
        return get(view, view.get_queryset())
    except Exception:  # a view without a queryset for this action has no filterset
        return None


def _filter_names(filterset_class) -> dict[str, object]:
    names: dict[str, object] = {}
    for name, flt in filterset_class.base_filters.items():
        names[name] = flt
        if isinstance(flt, django_filters.RangeFilter | django_filters.DateFromToRangeFilter):
            names[f"{name}_min"] = names[f"{name}_max"] = flt
            names[f"{name}_after"] = names[f"{name}_before"] = flt
    return names


def allowed_query_params(view) -> tuple[set[str], dict[str, object]]:
    """(allowed names, {name: django-filter Filter}) for the view's current action."""
    names = set(ALWAYS) | set(getattr(view, "extra_query_params", ()) or ())
    filters: dict[str, object] = {}
    if getattr(view, "action", None) in (None, "list") or getattr(view, "detail", True) is False:
        for backend_class in getattr(view, "filter_backends", ()) or ():
            backend = backend_class()
            if isinstance(backend, OrderingFilter):
                names.add(backend.ordering_param)
            elif isinstance(backend, SearchFilter):
                names.add(backend.search_param)
            else:
                filterset_class = _filterset_class(view, backend)
                if filterset_class is not None:
                    filters.update(_filter_names(filterset_class))
        paginator = getattr(view, "paginator", None)
        if paginator is not None and getattr(view, "action", None) == "list":
            names.add(getattr(paginator, "page_query_param", "page"))
            if getattr(paginator, "page_size_query_param", None):
                names.add(paginator.page_size_query_param)
    return names | set(filters), filters


def _plausible_datetime(text: str) -> bool:
    """A date-time PostgreSQL can hold: an offset within ±15:59 and a UTC time within years 1-9999."""
    import datetime as dt

    from django.utils.dateparse import parse_datetime

    try:
        value = parse_datetime(text.strip())
    except ValueError:
        return False
    if value is None:
        return True  # not a date-time at all: the filter's own form answers 400
    offset = value.utcoffset()
    if offset is not None:
        if abs(offset) >= dt.timedelta(hours=16):
            return False
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            return False
    return True


def check_query_params(request, view) -> None:
    """Raise a 400 naming every unknown parameter, NUL bytes and malformed booleans."""
    allowed, filters = allowed_query_params(view)
    errors: dict[str, list[str]] = {}
    for name in request.query_params:
        values = request.query_params.getlist(name)
        if name not in allowed:
            errors[name] = [f"Unknown query parameter. Allowed here: {', '.join(sorted(allowed)) or 'none'}."]
        elif any("\x00" in value for value in values) or "\x00" in name:
            errors[name] = ["Null characters are not allowed."]
        elif isinstance(filters.get(name), django_filters.BooleanFilter) and any(
                value.lower() not in _BOOLEAN for value in values):
            errors[name] = ['Use "true" or "false".']
        elif isinstance(filters.get(name), django_filters.NumberFilter) and any(
                not _NUMBER.fullmatch(value) for value in values):
            errors[name] = ["Use a plain number of at most 18 digits, e.g. 42."]
        elif isinstance(filters.get(name), django_filters.DateTimeFilter) and any(
                not _plausible_datetime(value) for value in values):
            errors[name] = ["Use an ISO 8601 date-time with a UTC offset within ±15:59, e.g. 2026-04-01T00:00:00Z."]
    if any("\x00" in name for name in request.query_params):
        errors.setdefault("query", ["Null characters are not allowed."])
    if errors:
        raise serializers.ValidationError(errors)


def check_ordering(request, view, queryset) -> None:
    """Refuse `ordering` terms the view does not offer (DRF would silently ignore them)."""
    for backend_class in getattr(view, "filter_backends", ()) or ():
        backend = backend_class()
        if not isinstance(backend, OrderingFilter):
            continue
        raw = request.query_params.get(backend.ordering_param)
        if raw is None:
            continue
        valid = {name for name, _label in backend.get_valid_fields(queryset, view, {"request": request})}
        bad = [term for term in (t.strip() for t in raw.split(",")) if term.lstrip("-") not in valid]
        if bad or not raw.strip():
            raise serializers.ValidationError({backend.ordering_param: [
                f"Cannot order by {', '.join(bad) or 'nothing'}. Choose from: {', '.join(sorted(valid))} "
                "(prefix '-' for descending)."]})


def check_body_size(request) -> None:
    """A JSON body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 before anything reads it
    (DRF's parsers read the stream without Django's limit)."""
    from django.conf import settings

    from .errors import PayloadTooLarge

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit and not (request.content_type or "").startswith("multipart/"):
        raise PayloadTooLarge(f"The request body ({length} bytes) is larger than the {limit} bytes an API request "
                              "may carry.")


def check_no_body(request) -> None:
    """An action that takes no body refuses one with fields (an empty body or `{}` is fine)."""
    if "json" not in (request.content_type or ""):
        return  # a form post from a browser session carries no fields to misread; the parsers decide
    data = request.data
    if not data:
        return
    if isinstance(data, dict):
        raise serializers.ValidationError(
            {str(name): ["Unknown field: this endpoint takes no body."] for name in sorted(data, key=str)})
    raise serializers.ValidationError({"non_field_errors": ["This endpoint takes no body."]})
