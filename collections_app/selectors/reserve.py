"""The bad-debt reserve calculation: given a legal entity and an as-of date, the balance, rate and
required allowance per segment and aging bucket, the specific reserves and the total, in the
entity's functional currency. Read from the published aging snapshot of that date (set-based:
one GROUP BY over the snapshot lines), never from a replay of the open items.

Rules (docs/reserve.md):
- What is reserved: the open debit documents of the snapshot (kind `debit`), in the functional
  currency at the snapshot's FX rates. Unapplied credits and cash are not netted (gross).
- A specific reserve takes its balance out of the matrix: a customer-level one all the
  customer's debit lines, an invoice-level one the invoice's amount open on the date (at the
  snapshot's rate) out of its bucket. Nothing is reserved twice.
- Rate applied = base rate x the policy's forward-looking factor + the bucket's overlay,
  capped to 0..1 and kept to 8 decimal places. Base rates are entered (matrix) or derived from the
  snapshots (roll-rate, historical loss rate: collections_app.selectors.reserve_derivation).
- Rounding: each line's allowance is balance x rate rounded once to the currency's minor unit
  (ROUND_HALF_UP); the totals are the sums of the rounded lines. A specific reserve is its
  balance x percent / 100, rounded the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from collections_app.models import ProvisionPolicy, ReserveMethod, SpecificReserve
from ledger.models import Account, JournalLine, LegalEntity, OpenItem
from otc.aggregates import MONEY_FIELD, money_sum, money_value
from otc.errors import DomainError, ValidationFailed
from otc.money import ZERO, quantize
from receivables.aging.buckets import bucket_index, parse_buckets
from receivables.models import AgingSnapshot, AgingSnapshotLine

RATE_PLACES = Decimal("0.00000001")
ONE = Decimal(1)


@dataclass
class CalcLine:
    kind: str  # matrix | specific
    segment: str
    bucket: int | None
    bucket_label: str
    balance: Decimal
    base_rate: Decimal
    overlay: Decimal
    rate: Decimal
    allowance: Decimal
    customer_id: int | None = None
    invoice_id: int | None = None
    specific_id: int | None = None
    reason: str = ""
    label: str = ""


@dataclass
class Calculation:
    entity: LegalEntity
    as_of: dt.date
    policy: ProvisionPolicy
    snapshot: AgingSnapshot
    functional_currency: str
    bucket_labels: list[str]
    lines: list[CalcLine]
    specifics: list[CalcLine]
    matrix_total: Decimal
    specific_total: Decimal
    total: Decimal
    derivation: dict[str, Any] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)

    @property
    def gross_balance(self) -> Decimal:
        return sum((line.balance for line in self.lines), ZERO) + sum((s.balance for s in self.specifics), ZERO)


def entity_by_id(legal_entity_id: int) -> LegalEntity:
    entity = LegalEntity.objects.filter(pk=legal_entity_id).first()
    if entity is None:
        raise ValidationFailed(f"Legal entity {legal_entity_id} does not exist.", fields={"entity": ["unknown"]})
    return entity


def policy_in_force(*, legal_entity_id: int, as_of: dt.date) -> ProvisionPolicy:
    policy = (ProvisionPolicy.objects.filter(legal_entity_id=legal_entity_id, effective_date__lte=as_of)
              .order_by("-effective_date").first())
    if policy is None:
        code = LegalEntity.objects.filter(pk=legal_entity_id).values_list("code", flat=True).first()
        raise DomainError(f"{code} has no provision policy in force on {as_of.isoformat()}: a Controller enters one "
                          "(Collections > Reserve > Policies).", code="no_policy")
    return policy


def snapshot_for(*, legal_entity_id: int, as_of: dt.date) -> AgingSnapshot:
    snapshot = AgingSnapshot.objects.filter(legal_entity_id=legal_entity_id, as_of=as_of, status="complete").first()
    if snapshot is None:
        code = LegalEntity.objects.filter(pk=legal_entity_id).values_list("code", flat=True).first()
        raise DomainError(f"{code} has no published aging snapshot as of {as_of.isoformat()}: take it first "
                          "(Receivables > Aging > Snapshots).", code="no_snapshot")
    return snapshot


def segment_expression(segment_by: str, prefix: str = "customer__") -> Any:
    """The SQL expression naming a customer's segment (blank when the policy has none)."""
    if segment_by == "risk_rating":
        return F(f"{prefix}risk_rating")
    if segment_by == "country":
        return F(f"{prefix}country")
    if segment_by == "customer_type":
        return Case(When(**{f"{prefix}parent__isnull": False}, then=Value("group_member")),
                    default=Value("standalone"), output_field=CharField())
    return Value("", output_field=CharField())


def applied_rate(base: Decimal, factor: Decimal, overlay: Decimal) -> Decimal:
    """base x factor + overlay, capped to 0..1, to 8 decimal places."""
    rate = (base * factor + overlay).quantize(RATE_PLACES)
    return min(ONE, max(ZERO, rate))


def _rates_table(policy: ProvisionPolicy) -> dict[tuple[str, int], tuple[Decimal | None, Decimal, str]]:
    return {(r.segment, r.bucket): (r.rate, r.overlay, r.overlay_reason) for r in policy.rates.all()}


def _lookup(table: dict, segment: str, bucket: int) -> tuple[Decimal | None, Decimal, str]:
    return table.get((segment, bucket)) or table.get(("", bucket)) or (None, ZERO, "")


def active_specifics(*, legal_entity_id: int, as_of: dt.date) -> list[SpecificReserve]:
    return list(SpecificReserve.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=as_of), legal_entity_id=legal_entity_id, effective_from__lte=as_of,
    ).select_related("customer", "invoice").order_by("customer_id", "invoice_id", "id"))


def _invoice_items(invoice_ids: list[int], as_of: dt.date) -> dict[int, list[Mapping[str, Any]]]:
    """Invoice id -> its AR open items with the amount open at the end of `as_of` (one query)."""
    if not invoice_ids:
        return {}
    from billing.models import Invoice

    later = (JournalLine.objects.filter(open_item=OuterRef("pk"), entry__entry_date__gt=as_of).order_by()
             .values("open_item").annotate(s=Sum("amount")).values("s"))
    rows = (OpenItem.objects.filter(source_type=ContentType.objects.get_for_model(Invoice), source_id__in=invoice_ids,
                                    account__role=Account.Role.AR, document_date__lte=as_of)
            .annotate(later=Coalesce(Subquery(later, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD))
            .annotate(open_at=F("open_amount") - F("later"))
            .values("source_id", "currency", "due_date", "document_date", "open_at"))
    out: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["open_at"]:
            invoice_id = row["source_id"]
            assert invoice_id is not None  # filtered by source_id__in
            out[invoice_id].append(row)
    return out


def reserve_compute(*, legal_entity_id: int, as_of: dt.date, policy: ProvisionPolicy | None = None,
                    snapshot: AgingSnapshot | None = None, segments: dict[str, str] | None = None,
                    derivation: dict[str, Any] | None = None) -> Calculation:
    """The reserve of an entity as of a date (rules in the module docstring). A posted run is
    recomputed by passing its policy, snapshot, segment map and derivation."""
    entity = entity_by_id(legal_entity_id)
    policy = policy or policy_in_force(legal_entity_id=legal_entity_id, as_of=as_of)
    snapshot = snapshot or snapshot_for(legal_entity_id=legal_entity_id, as_of=as_of)
    currency = snapshot.functional_currency
    buckets = parse_buckets(snapshot.buckets)
    labels = [b.label for b in buckets]

    # balances per (customer, bucket): one GROUP BY over the snapshot's debit lines
    rows = (AgingSnapshotLine.objects.filter(snapshot=snapshot, kind="debit").order_by()
            .values("customer_id", "bucket").annotate(total=money_sum("functional_amount")))
    per_customer: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in rows:
        per_customer[row["customer_id"]][row["bucket"]] += money_value(row["total"])

    if segments is None:
        segments = {}
        if policy.segment_by:
            seg_rows = (AgingSnapshotLine.objects.filter(snapshot=snapshot, kind="debit").order_by()
                        .values("customer_id").annotate(seg=segment_expression(policy.segment_by)).distinct())
            segments = {str(r["customer_id"]): r["seg"] or "" for r in seg_rows}

    # specific reserves: customer-level take the customer's lines out; invoice-level their amount
    specifics_out: list[CalcLine] = []
    specifics = active_specifics(legal_entity_id=legal_entity_id, as_of=as_of)
    whole = {s.customer_id: s for s in specifics if s.invoice_id is None}
    invoice_specifics = [(s.invoice_id, s) for s in specifics
                         if s.invoice_id is not None and s.customer_id not in whole]
    for customer_id, spec in whole.items():
        balance = sum(per_customer.pop(customer_id, {}).values(), ZERO)
        specifics_out.append(_specific_line(spec, balance, currency, None, ""))
    items = _invoice_items([invoice_id for invoice_id, _ in invoice_specifics], as_of)
    rates_fx = {c: Decimal(r) for c, r in (snapshot.fx_rates or {}).items()}
    ref = "due_date" if snapshot.basis == "due" else "document_date"
    for invoice_id, spec in invoice_specifics:
        balance = ZERO
        bucket = None
        for item in items.get(invoice_id, []):
            rate = rates_fx.get(item["currency"], ONE if item["currency"] == currency else None)
            if rate is None:
                raise DomainError(f"The snapshot of {as_of} has no FX rate for {item['currency']}.")
            amount = quantize(money_value(item["open_at"]) * rate, currency)
            bucket = bucket_index(buckets, (as_of - item[ref]).days)
            cust = per_customer.get(spec.customer_id)
            if cust is not None and bucket in cust:
                cust[bucket] = max(ZERO, cust[bucket] - amount)
            balance += amount
        specifics_out.append(_specific_line(spec, balance, currency, bucket, labels[bucket] if bucket is not None else ""))

    # the matrix per (segment, bucket)
    grid: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for customer_id, by_bucket in per_customer.items():
        seg = segments.get(str(customer_id), "") if policy.segment_by else ""
        for bucket, amount in by_bucket.items():
            grid[(seg, bucket)] += amount

    if derivation is None:
        derivation = {}
        if policy.method != ReserveMethod.MATRIX:
            from .reserve_derivation import derive_rates

            derivation = derive_rates(legal_entity_id=legal_entity_id, as_of=as_of, method=policy.method,
                                      lookback_months=policy.lookback_months, terminal_rate=policy.terminal_rate,
                                      segment_by=policy.segment_by, min_segment_months=policy.min_segment_months)
    from .reserve_derivation import segment_loss_rates
    table = _rates_table(policy)
    lines = []
    for (seg, bucket), balance in sorted(grid.items()):
        if not balance:
            continue
        entered, overlay, _reason = _lookup(table, seg, bucket)
        if policy.method == ReserveMethod.MATRIX:
            if entered is None:
                raise DomainError(f"The policy from {policy.effective_date} has no rate for the bucket "
                                  f"{labels[bucket]}{' of segment ' + seg if seg else ''}.", code="rate_missing")
            base = entered
        else:
            derived = [Decimal(r) for r in segment_loss_rates(derivation, seg)]
            base = derived[bucket] if bucket < len(derived) else ZERO
        rate = applied_rate(base, policy.overlay_factor, overlay)
        lines.append(CalcLine(kind="matrix", segment=seg, bucket=bucket, bucket_label=labels[bucket], balance=balance,
                              base_rate=base, overlay=overlay, rate=rate, allowance=quantize(balance * rate, currency)))
    matrix_total = sum((line.allowance for line in lines), ZERO)
    specific_total = sum((line.allowance for line in specifics_out), ZERO)
    return Calculation(entity=entity, as_of=as_of, policy=policy, snapshot=snapshot, functional_currency=currency,
                       bucket_labels=labels, lines=lines, specifics=specifics_out, matrix_total=matrix_total,
                       specific_total=specific_total, total=matrix_total + specific_total, derivation=derivation,
                       segments=segments if policy.segment_by else {})


def _specific_line(spec: SpecificReserve, balance: Decimal, currency: str, bucket: int | None, label: str) -> CalcLine:
    rate = (spec.percent / 100).quantize(RATE_PLACES)
    what = f"invoice {spec.invoice.number}" if spec.invoice is not None else "all invoices"
    return CalcLine(kind="specific", segment="", bucket=bucket, bucket_label=label, balance=balance, base_rate=rate,
                    overlay=ZERO, rate=rate, allowance=quantize(balance * rate, currency), customer_id=spec.customer_id,
                    invoice_id=spec.invoice_id, specific_id=spec.id,
                    reason=f"{spec.get_reason_display()}{': ' + spec.note if spec.note else ''}"[:255],
                    label=f"{spec.customer} ({what})")


def allowance_balance(*, legal_entity_id: int, as_of: dt.date) -> Decimal:
    """The allowance account's credit balance at the end of `as_of`, functional currency (one query)."""
    total = (JournalLine.objects.filter(account__legal_entity_id=legal_entity_id, account__role=Account.Role.ALLOWANCE,
                                        entry__entry_date__lte=as_of)
             .aggregate(s=money_sum("functional_amount"))["s"])
    return -money_value(total) + 0
