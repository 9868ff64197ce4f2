"""Reserve reports: the allowance roll-forward over a range of periods, tied to the ledger, and the
back-test of past runs' rates against the losses that followed.

Roll-forward: every line on the entity's allowance account, by month and by what posted it (the
entry's kind, or for a reversal the kind of the entry it reverses), whatever service posted it:
    charge      reserve entries (true-ups) and their reversals
    write-offs  write-off entries (debit the allowance) and their reversals
    recoveries  recovery entries (a recovered write-off reinstated into the allowance)
    FX / other  everything else (FX revaluation when it comes, manual journals)
Amounts are the allowance's credit balance (a charge is positive, a write-off negative), in the
functional currency. Opening + movements = closing, and each closing is compared with the
account's balance read separately from the ledger (difference 0.00). Two queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce

from collections_app.models import ReserveLine, ReserveRun
from ledger.models import Account, JournalEntry, JournalLine
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.errors import ValidationFailed
from otc.money import ZERO
from receivables.aging.buckets import bucket_index, parse_buckets
from receivables.aging.kpis import month_end

from .reserve import allowance_balance
from .reserve_derivation import RATE_PLACES, write_off_lines

COLUMNS = ("charge", "write_offs", "recoveries", "fx_other")
_KIND_COLUMN = {JournalEntry.Kind.RESERVE: "charge", JournalEntry.Kind.WRITE_OFF: "write_offs",
                JournalEntry.Kind.RECOVERY: "recoveries"}


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], month_end(first)
    while day <= month_end(last):
        out.append(day)
        day = month_end(day + dt.timedelta(days=1))
    return out


def allowance_rollforward(*, legal_entity_id: int, first: dt.date, last: dt.date) -> dict[str, Any]:
    """Months from `first`'s to `last`'s, each with opening, the four movements, closing, the
    ledger's closing balance and the difference; and the range's totals."""
    if last < first:
        raise ValidationFailed("The range ends before it starts.", fields={"last": ["before first"]})
    months = _months(first, last)
    if len(months) > 60:
        raise ValidationFailed("Choose at most 60 months.", fields={"last": ["too long"]})
    start = months[0].replace(day=1)
    opening = allowance_balance(legal_entity_id=legal_entity_id, as_of=start - dt.timedelta(days=1))
    rows = (JournalLine.objects.filter(account__legal_entity_id=legal_entity_id, account__role=Account.Role.ALLOWANCE,
                                       entry__entry_date__gte=start, entry__entry_date__lte=months[-1])
            .annotate(source=Coalesce(F("entry__reverses__kind"), F("entry__kind")))
            .values("entry__entry_date", "source").annotate(total=money_sum("functional_amount")).order_by())
    moves: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(COLUMNS, ZERO))
    for row in rows:
        column = _KIND_COLUMN.get(row["source"], "fx_other")
        moves[month_end(row["entry__entry_date"])][column] -= money_value(row["total"])
    out, balance = [], opening
    totals = dict.fromkeys(COLUMNS, ZERO)
    for month in months:
        move = moves[month]
        closing = balance + sum(move.values(), ZERO)
        ledger = allowance_balance(legal_entity_id=legal_entity_id, as_of=month)
        out.append({"month": month, "opening": balance, **move, "closing": closing, "ledger": ledger,
                    "difference": closing - ledger})
        for column in COLUMNS:
            totals[column] += move[column]
        balance = closing
    return {"months": out, "opening": opening, "closing": balance, "totals": totals,
            "ties": all(row["difference"] == 0 for row in out)}


def reserve_backtest(*, legal_entity_id: int, until: dt.date | None = None) -> list[dict[str, Any]]:
    """Each posted run's rates per bucket against the losses that followed: of each bucket's
    balance on the run's date, the share written off after it (up to `until`, default today),
    the invoices aged by due date on the run's date."""
    until = until or dates.today()
    runs = list(ReserveRun.objects.filter(legal_entity_id=legal_entity_id, status=ReserveRun.Status.POSTED)
                .select_related("snapshot").order_by("as_of"))
    if not runs:
        return []
    lines = (ReserveLine.objects.filter(run__in=runs, kind=ReserveLine.Kind.MATRIX).order_by()
             .values("run_id", "bucket", "bucket_label").annotate(balance=money_sum("balance"),
                                                                  allowance=money_sum("allowance")))
    per_run: dict[int, dict[int | None, Mapping[str, Any]]] = defaultdict(dict)  # run -> bucket -> its sums
    for row in lines:
        per_run[row["run_id"]][row["bucket"]] = row
    write_offs = write_off_lines(legal_entity_id=legal_entity_id, after=runs[0].as_of, until=until)
    out = []
    for run in runs:
        buckets = parse_buckets(run.snapshot.buckets)
        lost = [ZERO] * len(buckets)
        for w in write_offs:
            if w["date"] > run.as_of and w["document_date"] <= run.as_of:
                lost[bucket_index(buckets, (run.as_of - w["due"]).days)] += w["amount"]
        rows: list[dict[str, Any]] = []
        for index, bucket in enumerate(buckets):
            sums = per_run[run.id].get(index)
            balance = money_value(sums["balance"]) if sums else ZERO
            allowance = money_value(sums["allowance"]) if sums else ZERO
            rows.append({"bucket": bucket.label, "balance": balance, "allowance": allowance,
                         "rate": (allowance / balance).quantize(RATE_PLACES) if balance else None,
                         "written_off": lost[index],
                         "loss_rate": (lost[index] / balance).quantize(RATE_PLACES) if balance else None,
                         "difference": allowance - lost[index]})
        out.append({"run": run, "rows": rows, "allowance": sum((r["allowance"] for r in rows), ZERO),
                    "written_off": sum(lost, ZERO)})
    return out
