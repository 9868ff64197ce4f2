"""Helpers the billing views share: the visible invoices and mapping domain errors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from customers.selectors import customers_visible_to
from otc import errors

from ..models import Invoice


def invoices_visible_to(user) -> QuerySet[Invoice]:
    """Invoices of the customers the user may see."""
    return Invoice.objects.filter(customer__in=customers_visible_to(user).values("pk"))


def domain_error_response(request: HttpRequest, exc: errors.DomainError, back: str) -> HttpResponse:
    """Plain PermissionDenied answers 403; NotFound 404; everything else comes back as a message."""
    if isinstance(exc, errors.NotFound):
        raise Http404(exc.message)
    if type(exc) is errors.PermissionDenied:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)
    return redirect(back)
