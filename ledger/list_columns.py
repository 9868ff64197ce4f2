"""The ledger's columns on the customer list (registered in LedgerConfig.ready(); customers does
not import the ledger): each customer's open balance and what of it is overdue.

Both are in the customer's default currency, over its open items in that currency, the same
items as *AR by customer* (every open item, credits and unapplied cash included, so the balance is
what the customer owes net). Overdue counts only debit items past due and is clamped between 0
and the balance (credits are never overdue). A customer with open items in other currencies shows
"+ other currencies" under the balance, linking to the customer's page (its balance panel lists
every currency): amounts of different currencies are never added here."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils.html import format_html

from otc import dates
from otc.aggregates import MONEY_FIELD, money_sum
from otc.money import ZERO
from otc.templatetags.otc_tags import money

from .models import OpenItem


def _open_sum(**filters) -> Subquery:
    items = (OpenItem.objects.filter(customer=OuterRef("pk"), currency=OuterRef("default_currency"), **filters)
             .exclude(open_amount=0).order_by().values("customer").annotate(total=money_sum("open_amount"))
             .values("total"))
    return Subquery(items, output_field=MONEY_FIELD)


def annotate_balance(queryset: QuerySet, user=None) -> QuerySet:
    balance = Coalesce(_open_sum(), Value(ZERO), output_field=MONEY_FIELD)
    past_due = Coalesce(_open_sum(due_date__lt=dates.today(), open_amount__gt=0), Value(ZERO), output_field=MONEY_FIELD)
    others = OpenItem.objects.filter(customer=OuterRef("pk")).exclude(open_amount=0).exclude(
        currency=OuterRef("default_currency"))
    return queryset.annotate(
        ledger_balance=balance,
        ledger_overdue=Greatest(Least(past_due, balance), Value(ZERO), output_field=MONEY_FIELD),
        ledger_other_currencies=Exists(others),
    )


def render_balance(record) -> str:
    value = getattr(record, "ledger_balance", None)
    text = money(value, record.default_currency) if value else format_html('<span class="text-body-secondary">{}</span>', "—")
    if getattr(record, "ledger_other_currencies", False):
        return format_html('{}<div class="small"><a href="{}" data-testid="other-currencies">'
                           '+ other currencies</a></div>', text, record.get_absolute_url())
    return text


def render_overdue(record) -> str:
    value = getattr(record, "ledger_overdue", None)
    if not value:
        return format_html('<span class="text-body-secondary">{}</span>', "—")
    return format_html('<span class="text-danger">{}</span>', money(value, record.default_currency))

