"""Loss rates per aging bucket derived from history: the month-end aging snapshots and the
write-offs in the ledger. Each rate is a sum of numerators over a sum of denominators, and the
result keeps every term with the snapshot it came from, so a person can follow it (the
derivation page, its Excel export and the calculation sheet show the same table).

Roll-rate (migration) method, over `lookback_months` month-ends before the as-of date:
    roll rate of bucket b (b < last) = sum over months t of B[t+1](b+1) / sum of B[t](b), capped at 1
    roll rate of the last bucket     = sum of write-offs in month t+1 / sum of B[t](last)
                                       (or the policy's terminal rate, a judgment, when set)
    loss rate of bucket b            = roll rate b x roll rate b+1 x ... x roll rate last
where B[t](b) is the functional debit balance in bucket b of the published snapshot of month-end
t. Historical loss-rate method, over the same month-ends t (the as-of date excluded):
    loss rate of bucket b = sum over t of W[t](b) / sum of B[t](b)
where W[t](b) is what was written off after t (up to the as-of date) of the invoices that were
in bucket b at t (open then, aged by due date at t). Beside it, the cohort view: each month's
billing (the snapshot's invoiced sales) and how much of it was written off later, by the bucket
it had reached when written off.

Segments (risk rating, country, customer type): when the policy segments its customers, the
same derivation is made per segment (each customer's snapshot balances and write-offs in its
segment, as the customer is now) beside the pooled one (all customers). A segment whose
look-back has a balance in fewer than `min_segment_months` month-ends has too little history:
it takes the pooled rates, and the derivation says so (`fallback`).

Write-offs are the AR credits of write-off entries, net of recoveries (the AR a recovery entry
reinstates) and of reversals, whatever service posted them (read from the ledger by entry kind). Three queries (snapshots, balances,
write-offs), whatever the number of customers and items.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import F, Q
from django.db.models.functions import Coalesce

from ledger.models import Account, JournalEntry, JournalLine
from otc.aggregates import money_sum, money_value
from otc.errors import DomainError, ValidationFailed
from otc.money import ZERO
from receivables.aging.buckets import bucket_index, parse_buckets
from receivables.aging.kpis import months_back
from receivables.models import AgingSnapshot, AgingSnapshotLine

RATE_PLACES = Decimal("0.00000001")
ONE = Decimal(1)
METHODS = ("roll_rate", "loss_rate")


def _ratio(num: Decimal, den: Decimal) -> Decimal:
    return (num / den if den else ZERO).quantize(RATE_PLACES)


def _r(rate: Decimal) -> str:
    """A rate as text with its 8 places ("0.00000000", never "0E-8")."""
    return format(rate.quantize(RATE_PLACES), "f")


def _ladder(as_of: dt.date, lookback_months: int) -> list[dt.date]:
    """The as-of date and the month-ends before it, oldest first (lookback + 1 dates)."""
    return sorted({as_of, *(months_back(as_of, k) for k in range(1, lookback_months + 1))})


def _snapshots(legal_entity_id: int, dates: list[dt.date]) -> dict[dt.date, AgingSnapshot]:
    rows = AgingSnapshot.objects.filter(legal_entity_id=legal_entity_id, as_of__in=dates, status="complete")
    return {s.as_of: s for s in rows}


def _balances(snapshot_ids: list[int]) -> dict[tuple[int, int], Decimal]:
    rows = (AgingSnapshotLine.objects.filter(snapshot_id__in=snapshot_ids, kind="debit").order_by()
            .values("snapshot_id", "bucket").annotate(total=money_sum("functional_amount")))
    return {(r["snapshot_id"], r["bucket"]): money_value(r["total"]) for r in rows}


def _segment_balances(snapshot_ids: list[int], segment_by: str) -> dict[str, dict[tuple[int, int], Decimal]]:
    """Segment -> (snapshot id, bucket) -> functional debit balance: one GROUP BY."""
    from .reserve import segment_expression

    rows = (AgingSnapshotLine.objects.filter(snapshot_id__in=snapshot_ids, kind="debit").order_by()
            .annotate(seg=segment_expression(segment_by)).values("seg", "snapshot_id", "bucket")
            .annotate(total=money_sum("functional_amount")))
    out: dict[str, dict[tuple[int, int], Decimal]] = {}
    for r in rows:
        out.setdefault(r["seg"] or "", {})[(r["snapshot_id"], r["bucket"])] = money_value(r["total"])
    return out


def write_off_lines(*, legal_entity_id: int, after: dt.date, until: dt.date,
                    segment_by: str = "") -> list[dict[str, Any]]:
    """AR lines of write-off entries, net of recoveries (the AR reinstated by recovery entries) and of
    reversals of either, posted in (after, until]: date, amount written off (functional, positive
    for a write-off, negative for a recovery), the item's due and document dates. One query."""
    rows = (JournalLine.objects.filter(
        Q(entry__kind__in=(JournalEntry.Kind.WRITE_OFF, JournalEntry.Kind.RECOVERY))
        | Q(entry__reverses__kind__in=(JournalEntry.Kind.WRITE_OFF, JournalEntry.Kind.RECOVERY)),
        account__legal_entity_id=legal_entity_id, account__role=Account.Role.AR,
        entry__entry_date__gt=after, entry__entry_date__lte=until)
        .values("entry__entry_date", "functional_amount", "open_item__due_date", "open_item__document_date",
                "open_item_id")
        .annotate(due=Coalesce(F("open_item__due_date"), F("entry__entry_date"))))
    if segment_by:
        from .reserve import segment_expression

        rows = rows.annotate(seg=segment_expression(segment_by))
    return [{"date": r["entry__entry_date"], "amount": -money_value(r["functional_amount"]), "due": r["due"],
             "document_date": r["open_item__document_date"] or r["entry__entry_date"],
             "segment": (r.get("seg") or "") if segment_by else ""} for r in rows]


def derive_rates(*, legal_entity_id: int, as_of: dt.date, method: str, lookback_months: int = 12,
                 terminal_rate: Decimal | None = None, segment_by: str = "",
                 min_segment_months: int = 6) -> dict[str, Any]:
    """The derivation (module docstring) as plain data (JSON-ready: amounts as strings). With
    `segment_by`, `segments` holds each segment's derivation (or its pooled fallback)."""
    if method not in METHODS:
        raise ValidationFailed(f"Unknown derivation method '{method}'.", fields={"method": ["unknown"]})
    if not 1 <= lookback_months <= 60:
        raise ValidationFailed("The look-back is 1 to 60 months.", fields={"lookback_months": ["range"]})
    dates = _ladder(as_of, lookback_months)
    snaps = _snapshots(legal_entity_id, dates)
    if as_of not in snaps:
        raise DomainError(f"There is no published aging snapshot as of {as_of}: the derivation starts from it.",
                          code="no_snapshot")
    buckets = parse_buckets(snaps[as_of].buckets)
    labels = [b.label for b in buckets]
    usable = [d for d in dates if d in snaps and len(parse_buckets(snaps[d].buckets)) == len(buckets)]
    missing = [d.isoformat() for d in dates if d not in usable]
    snapshot_ids = [snaps[d].id for d in usable]
    write_offs = write_off_lines(legal_entity_id=legal_entity_id, after=usable[0], until=as_of,
                                 segment_by=segment_by)
    out: dict[str, Any] = {"method": method, "as_of": as_of.isoformat(), "lookback_months": lookback_months,
                           "buckets": labels, "missing_snapshots": missing,
                           "terminal_rate": None if terminal_rate is None else str(terminal_rate)}
    out.update(_derive(method, buckets, usable, snaps, _balances(snapshot_ids), write_offs, terminal_rate, as_of))
    if segment_by:
        out["segment_by"] = segment_by
        out["min_segment_months"] = min_segment_months
        out["segments"] = {}
        for seg, balances in sorted(_segment_balances(snapshot_ids, segment_by).items()):
            months = sum(1 for d in usable if any(balances.get((snaps[d].id, b)) for b in range(len(buckets))))
            if months >= min_segment_months:
                mine = [w for w in write_offs if w["segment"] == seg]
                derived = _derive(method, buckets, usable, snaps, balances, mine, terminal_rate, as_of)
                derived.pop("cohorts", None)  # billing is not split by segment in the snapshot
                out["segments"][seg] = {"months_with_balance": months, "fallback": False, **derived}
            else:
                out["segments"][seg] = {"months_with_balance": months, "fallback": True,
                                        "loss_rates": list(out["loss_rates"])}
    return out


def segment_loss_rates(derivation: dict[str, Any], segment: str) -> list[str]:
    """The loss rates a segment uses: its own, or the pooled ones (fallback, or a segment that had
    no balance in the look-back at all)."""
    own = (derivation.get("segments") or {}).get(segment)
    return (own or derivation)["loss_rates"]


def _derive(method: str, buckets: Any, usable: list[dt.date], snaps: dict[dt.date, AgingSnapshot],
            balances: dict[tuple[int, int], Decimal], write_offs: list[dict[str, Any]],
            terminal_rate: Decimal | None, as_of: dt.date) -> dict[str, Any]:
    n = len(buckets)

    def bal(day: dt.date, bucket: int) -> Decimal:
        return balances.get((snaps[day].id, bucket), ZERO)

    if method == "roll_rate":
        rows, num, den = [], [ZERO] * n, [ZERO] * n
        for start, end in zip(usable, usable[1:], strict=False):
            if months_back(end, 1) != start:
                continue  # not consecutive month-ends: a gap in the history
            written = sum((w["amount"] for w in write_offs if start < w["date"] <= end), ZERO)
            row_den = [bal(start, b) for b in range(n)]
            row_num = [bal(end, b + 1) for b in range(n - 1)] + [written]
            for b in range(n):
                num[b] += row_num[b]
                den[b] += row_den[b]
            rows.append({"from": start.isoformat(), "from_snapshot": snaps[start].id, "to": end.isoformat(),
                         "to_snapshot": snaps[end].id, "balances": [str(v) for v in row_den],
                         "rolled": [str(v) for v in row_num],
                         "rates": [_r(_ratio(row_num[b], row_den[b])) for b in range(n)]})
        # capped at 100 %: more arriving in a bucket than left the one before (new customers' older
        # items, credits applied) is not a roll from it
        roll = [min(ONE, _ratio(num[b], den[b])) for b in range(n)]
        observed_terminal = roll[-1]
        if terminal_rate is not None:
            roll[-1] = Decimal(terminal_rate).quantize(RATE_PLACES)
        loss = []
        for b in range(n):
            product = ONE
            for k in range(b, n):
                product *= roll[k]
            loss.append(product.quantize(RATE_PLACES))
        return {"rows": rows, "numerators": [str(v) for v in num], "denominators": [str(v) for v in den],
                "roll_rates": [_r(v) for v in roll], "observed_terminal": _r(observed_terminal),
                "loss_rates": [_r(v) for v in loss]}
    # historical loss rate
    observed = [d for d in usable if d != as_of]
    rows, num, den = [], [ZERO] * n, [ZERO] * n
    for day in observed:
        row_den = [bal(day, b) for b in range(n)]
        row_num = [ZERO] * n
        for w in write_offs:
            if w["date"] > day and w["document_date"] <= day:
                row_num[bucket_index(buckets, (day - w["due"]).days)] += w["amount"]
        for b in range(n):
            num[b] += row_num[b]
            den[b] += row_den[b]
        rows.append({"at": day.isoformat(), "snapshot": snaps[day].id, "balances": [str(v) for v in row_den],
                     "written_off_later": [str(v) for v in row_num],
                     "rates": [_r(_ratio(row_num[b], row_den[b])) for b in range(n)]})
    loss = [_ratio(num[b], den[b]) for b in range(n)]
    if terminal_rate is not None:
        loss[-1] = Decimal(terminal_rate).quantize(RATE_PLACES)
    cohorts = []
    for day in observed:
        billed = Decimal(snaps[day].sales.get("invoiced", "0") or "0")
        by_bucket = [ZERO] * n
        for w in write_offs:
            if w["document_date"].year == day.year and w["document_date"].month == day.month:
                by_bucket[bucket_index(buckets, (w["date"] - w["due"]).days)] += w["amount"]
        total = sum(by_bucket, ZERO)
        cohorts.append({"month": day.isoformat(), "snapshot": snaps[day].id, "billed": str(billed),
                        "written_off_by_bucket_reached": [str(v) for v in by_bucket], "written_off": str(total),
                        "rate": _r(_ratio(total, billed))})
    return {"rows": rows, "numerators": [str(v) for v in num], "denominators": [str(v) for v in den],
            "loss_rates": [_r(v) for v in loss], "cohorts": cohorts}
