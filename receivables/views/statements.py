"""The customer statement download for the finance pages (the statement itself is built by
receivables/statements.py)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse

from customers.selectors import customers_visible_to
from otc import dates
from otc.errors import DomainError

from ..statements import statement_currencies, statement_file_name, statement_pdf


@login_required
@permission_required("ledger.view_openitem", raise_exception=True)
def statement_download(request: HttpRequest, customer_id: int) -> HttpResponse:
    """?legal_entity=<id>&currency=&from=&to= (ISO dates; default this month so far; entity and
    currency may be left out when the customer has only one). 403 without ledger.view_openitem,
    404 for a customer the user may not see, 400 for a query that names no statement."""
    customer = customers_visible_to(request.user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    try:
        date_to = dt.date.fromisoformat(request.GET["to"]) if request.GET.get("to") else dates.today()
        date_from = dt.date.fromisoformat(request.GET["from"]) if request.GET.get("from") else date_to.replace(day=1)
        if request.GET.get("legal_entity") or request.GET.get("currency"):
            entity_id, currency = int(request.GET["legal_entity"]), request.GET["currency"]
        else:  # the customer's only entity and currency
            [(entity_id, currency, _)] = statement_currencies(customer_id=customer.pk)
    except (KeyError, ValueError):
        return HttpResponse("Give legal_entity (id), currency and optionally from/to as YYYY-MM-DD.", status=400,
                            content_type="text/plain")
    try:
        content = statement_pdf(customer_id=customer.pk, legal_entity_id=entity_id, currency=currency,
                                date_from=date_from, date_to=date_to)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.http_status, content_type="text/plain")
    response = HttpResponse(content, content_type="application/pdf")
    name = statement_file_name(customer=customer, currency=currency.upper(), date_to=date_to)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
