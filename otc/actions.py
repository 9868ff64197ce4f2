"""Helpers every app's HTML views share: a permission check (403), domain errors turned into a
response or form errors, the POST-button pattern (permission, one service call, message) and a
safe `next` URL. Views stay thin: visibility (404) is each app's own first step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from otc import errors


def require(request: HttpRequest, perm: str) -> None:
    """403 unless the user holds `perm` (the service checks again)."""
    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role may not do this.")


def domain_error_response(request: HttpRequest, exc: errors.DomainError, back: str, *,
                          with_fields: bool = False) -> HttpResponse:
    """Plain PermissionDenied answers 403; NotFound 404; everything else (segregation of duties,
    limits, invalid transitions, validation) comes back to the page as a message, with the field
    details when `with_fields` (services whose field errors are sentences, e.g. contracts')."""
    if isinstance(exc, errors.NotFound):
        raise Http404(exc.message)
    if type(exc) is errors.PermissionDenied:
        raise PermissionDenied(exc.message)
    messages.error(request, error_text(exc) if with_fields else exc.message)
    return redirect(back)


def error_text(exc: errors.DomainError) -> str:
    """The refusal with its field details: "message (field: detail; ...)"."""
    if exc.fields:
        details = "; ".join(
            f"{name.replace('_', ' ')}: {' '.join(map(str, msgs)) if isinstance(msgs, list | tuple) else msgs}"
            for name, msgs in exc.fields.items())
        return f"{exc.message} ({details})"
    return exc.message


def button_action(request: HttpRequest, *, permission: str, back: str, act: Callable[[], Any],
                  done: Callable[[Any], str]) -> HttpResponse:
    """A POST button: permission (403), one service call; a domain error becomes a message;
    back to `back` either way. Visibility (404) is the caller's first step."""
    require(request, permission)
    try:
        result = act()
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, done(result))
    return redirect(back)


def service_on_form(form: forms.Form, act: Callable[[], Any]) -> Any | None:
    """A form's one service call: a ValidationFailed goes on the form (each field its own messages,
    `apply_service_errors(field_messages=True)`) and None comes back; NotFound answers 404, a
    PermissionDenied (of any kind) 403. Otherwise the service's result."""
    try:
        return act()
    except errors.ValidationFailed as exc:
        apply_service_errors(form, exc, field_messages=True)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message) from exc
    return None


def form_data(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data, or its first error as a refusal (ValidationFailed) that
    `button_action` shows: an over-long optional note is refused with its limit, never dropped."""
    if not form.is_valid():
        name, field_errors = next(iter(form.errors.items()))
        label = "" if name == "__all__" else f"{form.fields[name].label or name.replace('_', ' ').capitalize()}: "
        raise errors.ValidationFailed(f"{label}{field_errors[0]}", fields={name: list(field_errors)})
    return form.cleaned_data


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` the form posted when it is a URL of this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def place_field_messages(form: forms.BaseForm, fields: dict[str, Any]) -> bool:
    """Put each field's own messages (services that write a sentence per field: customers,
    contracts) next to the field: `customer_id` on `customer`; a disabled or unknown field's at
    the top, labelled. Returns whether anything was placed."""
    placed = False
    for name, field_messages in (fields or {}).items():
        field = name[:-3] if name.endswith("_id") and name[:-3] in form.fields else name
        for message in field_messages if isinstance(field_messages, list | tuple) else [field_messages]:
            known = field in form.fields
            if not known and name not in ("__all__", "non_field_errors"):
                message = f"{name.replace('_', ' ').capitalize()}: {message}"
            form.add_error(field if known and not form.fields[field].disabled else None, str(message))
            placed = True
    return placed


def apply_service_errors(form: forms.Form, exc: errors.ValidationFailed, *, line_forms: list | None = None,
                         field_messages: bool = False) -> None:
    """Show a service's ValidationFailed on the form. By default the refusal's message goes on
    the fields it names (`lines: [position]` on those lines, 1-based, when `line_forms` is given);
    with `field_messages` each named field gets its own messages (`place_field_messages`).
    Otherwise, or when nothing was placed, the message goes at the top of the form."""
    if field_messages:
        if not place_field_messages(form, exc.fields or {}):
            form.add_error(None, exc.message)
        return
    placed = False
    for name, details in (exc.fields or {}).items():
        if name == "lines" and line_forms is not None:
            for position in details if isinstance(details, list | tuple) else [details]:
                if isinstance(position, int) and 1 <= position <= len(line_forms):
                    line_forms[position - 1].add_error(None, exc.message)
                    placed = True
            continue
        field = name[:-3] if name.endswith("_id") else name
        if field in form.fields and not form.fields[field].disabled and field not in form.errors:
            form.add_error(field, exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
