"""The one aging engine: open items aged as of any date, set-based in SQL.

What was open on a date D is worked out from the subledger, never from a second copy of
balances: an item's amount open at the end of D is its `open_amount` today minus every
journal line on it posted after D (by posting date, the same date the trial balance uses, so
the aging as of D ties to the AR control accounts as of D to the cent). Because that is linear
in the lines, a whole bucket is

    SUM(open_amount of items, by bucket) - SUM(amount of lines posted after D, by item bucket)

two GROUP BY queries per legal entity with one `SUM ... FILTER` column per (kind, bucket):
the first reads only items open today (a partial index), the second only the lines posted
after D (none for an aging as of today). Items issued after D cancel out exactly (all their
lines are after D); items settled since D come back through the second query.

Kinds: `debit` (invoices and other debits on AR), `credit` (credit notes and other credits on
AR not yet applied) and `unapplied` (unapplied cash). Each is aged by its own due date (or
document date) into the entity's buckets; a report shows credits and unapplied cash beside the
buckets, or nets them into the buckets (`net=True`).

Two ways to age: `by="document"` puts each document in its own bucket; `by="customer"` puts
a customer's whole debit balance in the bucket of its oldest overdue open document.

The groupings live in `dimensions` (re-exported here: `Dimension`, `DIMENSIONS`,
`register_dimension`); the cached reads the page and the API use in `cache`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from customers.selectors import customers_visible_to
from ledger.models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem
from ledger.services.rates import fx_rate_for
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.errors import DomainError, ValidationFailed
from otc.models import User
from otc.money import ZERO, quantize, validate_currency

from .buckets import DEFAULT_BUCKETS, Bucket, parse_buckets
from .dimensions import DIMENSIONS, Dimension, register_dimension  # noqa: F401 - register_dimension re-exported

KINDS = ("debit", "credit", "unapplied")
BASES = ("due", "document")
MODES = ("document", "customer")
_REF = {"due": "due_date", "document": "document_date"}


# --- parameters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgingParams:
    as_of: dt.date
    basis: str = "due"
    by: str = "document"
    group_by: str = "customer"
    net: bool = False
    legal_entity_id: int | None = None
    currency: str | None = None
    customer_ids: tuple[int, ...] | None = None
    buckets: str | None = None  # overrides the entities' own bucket definitions


def check_params(params: AgingParams) -> AgingParams:
    """Refuse what cannot be answered, naming it (the API answers 400, the page a form error)."""
    fields: dict[str, list[str]] = {}
    if params.basis not in BASES:
        fields["basis"] = [f"one of {', '.join(BASES)}"]
    if params.by not in MODES:
        fields["by"] = [f"one of {', '.join(MODES)}"]
    if params.group_by not in DIMENSIONS:
        fields["group_by"] = [f"one of {', '.join(DIMENSIONS)}"]
    if fields:
        raise ValidationFailed("Check the aging parameters: " + "; ".join(f"{k}: {v[0]}" for k, v in fields.items()),
                               fields=fields)
    if params.currency:
        try:
            validate_currency(params.currency)
        except DomainError as exc:
            raise ValidationFailed(exc.message, fields={"currency": ["unknown"]}) from exc
    if params.legal_entity_id is not None and not LegalEntity.objects.filter(pk=params.legal_entity_id).exists():
        raise ValidationFailed(f"There is no legal entity {params.legal_entity_id}.", fields={"entity": ["unknown"]})
    if params.buckets:
        parse_buckets(params.buckets)
    first = JournalEntry.objects.filter(
        **({"legal_entity_id": params.legal_entity_id} if params.legal_entity_id else {})).aggregate(d=Min("entry_date"))["d"]
    if first is None:
        raise ValidationFailed("Nothing has been posted yet: there is nothing to age.", fields={"as_of": ["no postings"]})
    if params.as_of < first:
        raise ValidationFailed(f"{params.as_of:%Y-%m-%d} is before the first posting ({first:%Y-%m-%d}); "
                               "choose a later as-of date.", fields={"as_of": ["before the first posting"]})
    return params


def entity_buckets(entity_ids: list[int]) -> dict[int, tuple[Bucket, ...]]:
    """Each entity's configured buckets (the default where none is set)."""
    from receivables.models import AgingPolicy

    texts = dict(AgingPolicy.objects.filter(legal_entity_id__in=entity_ids).values_list("legal_entity_id", "buckets"))
    return {pk: parse_buckets(texts.get(pk) or DEFAULT_BUCKETS) for pk in entity_ids}


# --- the core query ---------------------------------------------------------------------------

def _kind(p: str, unapplied_accounts: list[int]) -> Case:
    """debit / credit / unapplied of an open item (reached through `p`), as a SQL expression (by
    account id, so the query needs no join to the chart)."""
    return Case(
        When(**{f"{p}account_id__in": unapplied_accounts}, then=Value("unapplied")),
        When(**{f"{p}original_amount__gt": 0}, then=Value("debit")),
        default=Value("credit"), output_field=CharField(),
    )


def _bucket_q(bucket: Bucket, as_of: dt.date, ref: str) -> Q:
    earliest, latest = bucket.date_range(as_of)
    q = Q()
    if earliest is not None:
        q &= Q(**{f"{ref}__gte": earliest})
    if latest is not None:
        q &= Q(**{f"{ref}__lte": latest})
    return q


def _columns(amount: str, p: str, buckets: tuple[Bucket, ...], as_of: dt.date, basis: str) -> dict[str, Any]:
    """One SUM ... FILTER per bucket (exact NUMERIC sums on PostgreSQL; read back with money_value)."""
    ref = f"{p}{_REF[basis]}"
    return {f"b_{i}": Sum(amount, filter=_bucket_q(bucket, as_of, ref) if bucket.low is not None or bucket.high is not None
                          else None)
            for i, bucket in enumerate(buckets)}


def _scoped(qs: QuerySet, p: str, *, legal_entity_id: int, currency: str | None, user: User | None,
            customer_ids: tuple[int, ...] | None) -> QuerySet:
    qs = qs.filter(**{f"{p}legal_entity_id": legal_entity_id})
    if currency:
        qs = qs.filter(**{f"{p}currency": currency.upper()})
    if customer_ids is not None:
        qs = qs.filter(**{f"{p}customer_id__in": customer_ids})
    if user is not None and not user.has_perm("customers.view_all_customers"):
        qs = qs.filter(**{f"{p}customer__in": customers_visible_to(user)})
    return qs


def aging_groups(*, legal_entity_id: int, as_of: dt.date, buckets: tuple[Bucket, ...], basis: str = "due",
                 keys: dict[str, Callable[[str], Any]], currency: str | None = None, user: User | None = None,
                 customer_ids: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """Amounts open at the end of `as_of` per (currency, *keys), kind and bucket, in document
    currency: [{"currency", <key>..., "debit": [..], "credit": [..], "unapplied": [..]}].
    Three queries whatever the number of customers or items."""
    scope = {"legal_entity_id": legal_entity_id, "currency": currency, "user": user, "customer_ids": customer_ids}
    unapplied = list(Account.objects.filter(legal_entity_id=legal_entity_id, role=Account.Role.UNAPPLIED_CASH)
                     .values_list("pk", flat=True))
    now = (
        _scoped(OpenItem.objects.exclude(open_amount=0), "", **scope)
        .values(currency_key=F("currency"), kind=_kind("", unapplied), **{f"g_{name}": fn("") for name, fn in keys.items()})
        .annotate(**_columns("open_amount", "", buckets, as_of, basis)).order_by()
    )
    p = "open_item__"
    later = (
        _scoped(JournalLine.objects.filter(open_item__isnull=False, entry__legal_entity_id=legal_entity_id,
                                           entry__entry_date__gt=as_of), p, **scope)
        .values(currency_key=F(f"{p}currency"), kind=_kind(p, unapplied), **{f"g_{name}": fn(p) for name, fn in keys.items()})
        .annotate(**_columns("amount", p, buckets, as_of, basis)).order_by()
    )
    return _combine([(1, now), (-1, later)], keys, len(buckets))


def _tuples(qs: QuerySet, names: list[str]) -> list[tuple]:
    """The rows of a grouped query as tuples in the order of `names`: through a plain cursor on
    PostgreSQL (NUMERIC sums arrive as exact Decimals; no per-row dicts or model converters, the
    hot path of the page and the snapshot job), through Django elsewhere (SQLite's REAL sums
    need its decimal converter)."""
    qs = qs.values_list(*names)
    if connection.vendor != "postgresql":
        return list(qs)
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _combine(queries: list[tuple[int, QuerySet]], keys: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Add up signed grouped queries (columns currency_key, kind, g_<key>..., b_0..b_n-1) into
    [{"currency", <key>..., "debit": [..], "credit": [..], "unapplied": [..]}]."""
    names = ["currency_key", "kind", *(f"g_{name}" for name in keys), *(f"b_{i}" for i in range(n))]
    k = len(keys)
    rows: dict[tuple, dict[str, Any]] = {}
    for sign, query in queries:
        for group in _tuples(query, names):
            key = (group[0], *group[2:2 + k])
            row = rows.get(key)
            if row is None:
                row = rows[key] = {"currency": group[0], **{name: group[2 + j] for j, name in enumerate(keys)},
                                   **{kind: [ZERO] * n for kind in KINDS}}
            target = row[group[1]]
            for i, value in enumerate(group[2 + k:]):
                if value:
                    target[i] += sign * value
    out = []
    for row in rows.values():
        for kind in KINDS:
            row[kind] = [money_value(v) for v in row[kind]]
        if any(v for kind in KINDS for v in row[kind]):
            out.append(row)
    return out


def oldest_overdue_index(debit: list[Decimal], buckets: tuple[Bucket, ...]) -> int:
    """The bucket of a customer's oldest overdue open document (0 when nothing is overdue).
    Every debit item's open amount is positive, so a bucket holds an open one iff its sum is."""
    for i in range(len(buckets) - 1, -1, -1):
        if buckets[i].is_overdue and debit[i] > 0:
            return i
    return 0


# --- the report -------------------------------------------------------------------------------

@dataclass
class AgingRow:
    key: Any
    label: str
    currency: str
    buckets: list[Decimal]
    credits: Decimal
    unapplied: Decimal
    total: Decimal
    functional_total: Decimal
    functional_buckets: list[Decimal]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def overdue(self) -> Decimal:
        return sum(self.buckets[1:], ZERO)


@dataclass
class EntityAging:
    entity: LegalEntity
    buckets: tuple[Bucket, ...]
    rows: list[AgingRow]
    fx_rates: dict[str, Decimal]
    totals: dict[str, dict[str, Any]]  # per currency: buckets, credits, unapplied, total, functional_total
    functional_buckets: list[Decimal]
    functional_credits: Decimal
    functional_unapplied: Decimal
    functional_total: Decimal
    control: list[dict[str, Any]] | None = None  # tie-out to the AR control accounts (unscoped reports only)
    snapshot_id: int | None = None  # read from this published snapshot (still exact), else from the books

    @property
    def source(self) -> str:
        return f"snapshot {self.snapshot_id}" if self.snapshot_id else "books"

    @property
    def functional_currency(self) -> str:
        return self.entity.functional_currency

    @property
    def bucket_labels(self) -> list[str]:
        return [b.label for b in self.buckets]

    @property
    def control_difference(self) -> Decimal:
        return sum((c["difference"] for c in self.control or []), ZERO)


@dataclass
class AgingReport:
    params: AgingParams
    dimension: Dimension
    entities: list[EntityAging]


def _rates(entity: LegalEntity, currencies: set[str], as_of: dt.date) -> dict[str, Decimal]:
    return {c: fx_rate_for(from_currency=c, to_currency=entity.functional_currency, on=as_of) for c in sorted(currencies)}


def _functional(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    return quantize(amount * rate, currency)


def control_balances(*, legal_entity_id: int, as_of: dt.date, currency: str | None = None) -> dict[str, Decimal]:
    """The AR and unapplied-cash control accounts' balance at the end of `as_of`, per currency."""
    return control_by_entity([legal_entity_id], as_of, currency).get(legal_entity_id, {})


def aging_report(*, params: AgingParams, user: User | None, tie_out: bool = True,
                 use_snapshots: bool = True) -> AgingReport:
    """The aging as of `params.as_of`, one block per legal entity (each with its own buckets),
    rows grouped by `params.group_by` and currency. Raises ValidationFailed on bad parameters and
    DomainError when an FX rate to the functional currency is missing on the as-of date.

    An entity whose published snapshot of that date is still exact (`usable_snapshot`) is read
    from the snapshot's lines instead of the books (same amounts, a fraction of the work)."""
    check_params(params)
    dimension = DIMENSIONS[params.group_by]
    entities = list(LegalEntity.objects.filter(
        **({"pk": params.legal_entity_id} if params.legal_entity_id else {"is_active": True})).order_by("code"))
    configured = entity_buckets([e.id for e in entities])
    scoped = user is not None and not user.has_perm("customers.view_all_customers")
    tie_out = tie_out and not scoped and params.customer_ids is None
    ledger = control_by_entity([e.id for e in entities], params.as_of, params.currency) if tie_out else {}
    snapshots = (usable_snapshots(entities, params, configured)
                 if use_snapshots and dimension.cacheable and params.as_of < dates.today() else {})
    blocks = []
    for entity in entities:
        buckets = parse_buckets(params.buckets) if params.buckets else configured[entity.id]
        blocks.append(_entity_aging(entity, buckets, params, dimension, user,
                                    ledger=ledger.get(entity.id, {}) if tie_out else None,
                                    snapshot=snapshots.get(entity.id)))
    _label_rows(dimension, blocks)
    return AgingReport(params=params, dimension=dimension, entities=blocks)


# --- reading a published snapshot instead of the books ----------------------------------------

def books_entry_id(legal_entity_id: int, as_of: dt.date) -> int:
    """The last journal entry id a snapshot of `as_of` taken now sees, for `usable_snapshots`.

    On PostgreSQL a posting holds its period FOR SHARE from before it takes its entry ids until
    it commits; locking the entity's open periods up to the date FOR UPDATE (in a savepoint rolled
    back at once, which releases the lock) waits for those in flight, so no entry dated by then
    can commit later with a smaller id than the one returned."""
    from django.db import transaction
    from django.db.models import Max

    from ledger.models import Period

    if connection.vendor == "postgresql":
        sid = transaction.savepoint()
        try:
            list(Period.objects.select_for_update(of=("self",)).filter(
                Q(year__lt=as_of.year) | Q(year=as_of.year, month__lte=as_of.month),
                legal_entity_id=legal_entity_id).values_list("pk", flat=True))
            last = JournalEntry.objects.aggregate(m=Max("pk"))["m"]
        finally:
            transaction.savepoint_rollback(sid)
        return last or 0
    return JournalEntry.objects.aggregate(m=Max("pk"))["m"] or 0


def usable_snapshots(entities: list[LegalEntity], params: AgingParams,
                     configured: dict[int, tuple[Bucket, ...]]) -> dict[int, Any]:
    """Per entity, its published snapshot of `params.as_of` when that snapshot is still exactly
    what the books say: taken by the job from the books (not demo history), with the same basis
    and buckets, and nothing dated on or before the date posted after it (no journal entry of the
    entity with a larger id than the last one the snapshot saw and a date on or before the date).
    Two queries whatever the number of entities."""
    from receivables.models import AgingSnapshot, AgingSnapshotRun

    from .buckets import buckets_text

    candidates = list(AgingSnapshot.objects.filter(
        legal_entity_id__in=[e.id for e in entities], as_of=params.as_of, status=AgingSnapshot.Status.COMPLETE,
        basis=params.basis, books_entry_id__isnull=False).exclude(run__trigger=AgingSnapshotRun.Trigger.DEMO)
        .only("pk", "legal_entity_id", "buckets", "books_entry_id"))
    wanted = {e.id: buckets_text(parse_buckets(params.buckets) if params.buckets else configured[e.id]) for e in entities}
    candidates = [c for c in candidates if c.buckets == wanted[c.legal_entity_id]]
    if not candidates:
        return {}
    later = Q()
    for c in candidates:
        later |= Q(legal_entity_id=c.legal_entity_id, pk__gt=c.books_entry_id)
    moved = set(JournalEntry.objects.filter(later, entry_date__lte=params.as_of)
                .values_list("legal_entity_id", flat=True).distinct())
    return {c.legal_entity_id: c for c in candidates if c.legal_entity_id not in moved}


def snapshot_groups(snapshot: Any, *, buckets: tuple[Bucket, ...], keys: dict[str, Callable[[str], Any]],
                    currency: str | None = None, user: User | None = None,
                    customer_ids: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """`aging_groups` read from a published snapshot's lines (one query): the same structure and
    amounts, in document currency."""
    from receivables.models import AgingSnapshotLine

    lines = AgingSnapshotLine.objects.filter(snapshot=snapshot)
    if currency:
        lines = lines.filter(currency=currency.upper())
    if customer_ids is not None:
        lines = lines.filter(customer_id__in=customer_ids)
    if user is not None and not user.has_perm("customers.view_all_customers"):
        lines = lines.filter(customer__in=customers_visible_to(user))
    exprs = {f"g_{name}": (Value(snapshot.legal_entity_id) if fn is DIMENSIONS["entity"].key else fn(""))
             for name, fn in keys.items()}
    query = (lines.values("kind", currency_key=F("currency"), **exprs)
             .annotate(**{f"b_{i}": Sum("amount", filter=Q(bucket=i)) for i in range(len(buckets))}).order_by())
    return _combine([(1, query)], keys, len(buckets))


def control_by_entity(entity_ids: list[int], as_of: dt.date, currency: str | None) -> dict[int, dict[str, Decimal]]:
    """The control accounts' balances of every entity: the lines of the AR and unapplied-cash
    control accounts only (by account id, through the (account, currency) index; no join to the
    chart), and the join to the entries for their date only when something is posted after it."""
    accounts = dict(Account.objects.filter(legal_entity_id__in=entity_ids, role__in=Account.SUBLEDGER_ROLES)
                    .values_list("pk", "legal_entity_id"))
    lines = JournalLine.objects.filter(account_id__in=list(accounts))
    if JournalEntry.objects.filter(legal_entity_id__in=entity_ids, entry_date__gt=as_of).exists():
        lines = lines.filter(entry__entry_date__lte=as_of)
    if currency:
        lines = lines.filter(currency=currency.upper())
    out: dict[int, dict[str, Decimal]] = {}
    for account_id, cur, total in (lines.values("account_id", "currency").annotate(total=money_sum("amount"))
                                   .order_by().values_list("account_id", "currency", "total")):
        balances = out.setdefault(accounts[account_id], {})
        balances[cur] = balances.get(cur, ZERO) + money_value(total)
    return out


def _entity_aging(entity: LegalEntity, buckets: tuple[Bucket, ...], params: AgingParams, dimension: Dimension,
                  user: User | None, *, ledger: dict[str, Decimal] | None, snapshot: Any = None) -> EntityAging:
    keys: dict[str, Callable[[str], Any]] = {"key": dimension.key}
    if params.by == "customer":
        keys["customer_key"] = DIMENSIONS["customer"].key
    if snapshot is not None:
        groups = snapshot_groups(snapshot, buckets=buckets, keys=keys, currency=params.currency, user=user,
                                 customer_ids=params.customer_ids)
    else:
        groups = aging_groups(legal_entity_id=entity.id, as_of=params.as_of, buckets=buckets, basis=params.basis,
                              keys=keys, currency=params.currency, user=user, customer_ids=params.customer_ids)
    if params.by == "customer":
        groups = _by_oldest_overdue(groups, buckets)
    n = len(buckets)
    rates = _rates(entity, {g["currency"] for g in groups}, params.as_of)
    functional = entity.functional_currency
    rows: dict[tuple, AgingRow] = {}
    totals: dict[str, dict[str, Any]] = {}
    for g in groups:
        if params.net:
            amounts = [g["debit"][i] + g["credit"][i] + g["unapplied"][i] for i in range(n)]
            credits = unapplied = ZERO
        else:
            amounts, credits, unapplied = list(g["debit"]), sum(g["credit"], ZERO), sum(g["unapplied"], ZERO)
        row = rows.get((g["key"], g["currency"]))
        if row is None:
            row = rows[g["key"], g["currency"]] = AgingRow(
                key=g["key"], label="", currency=g["currency"], buckets=[ZERO] * n, credits=ZERO, unapplied=ZERO,
                total=ZERO, functional_total=ZERO, functional_buckets=[ZERO] * n)
        row.buckets = [a + b for a, b in zip(row.buckets, amounts, strict=True)]
        row.credits += credits
        row.unapplied += unapplied
    for row in rows.values():
        rate = rates[row.currency]
        row.total = sum(row.buckets, ZERO) + row.credits + row.unapplied
        row.functional_buckets = [_functional(a, rate, functional) for a in row.buckets]
        row.functional_total = (sum(row.functional_buckets, ZERO) + _functional(row.credits, rate, functional)
                                + _functional(row.unapplied, rate, functional))
        t = totals.setdefault(row.currency, {"buckets": [ZERO] * n, "credits": ZERO, "unapplied": ZERO, "total": ZERO,
                                             "rate": rate})
        t["buckets"] = [a + b for a, b in zip(t["buckets"], row.buckets, strict=True)]
        t["credits"] += row.credits
        t["unapplied"] += row.unapplied
        t["total"] += row.total
    for t in totals.values():
        rate = t["rate"]
        t["functional_buckets"] = [_functional(a, rate, functional) for a in t["buckets"]]
        t["functional_credits"] = _functional(t["credits"], rate, functional)
        t["functional_unapplied"] = _functional(t["unapplied"], rate, functional)
        t["functional_total"] = sum(t["functional_buckets"], ZERO) + t["functional_credits"] + t["functional_unapplied"]
    block = EntityAging(
        entity=entity, buckets=buckets, rows=sorted(rows.values(), key=lambda r: (-r.functional_total, str(r.key))),
        fx_rates=rates, totals=dict(sorted(totals.items())),
        functional_buckets=[sum((t["functional_buckets"][i] for t in totals.values()), ZERO) for i in range(n)],
        functional_credits=sum((t["functional_credits"] for t in totals.values()), ZERO),
        functional_unapplied=sum((t["functional_unapplied"] for t in totals.values()), ZERO),
        functional_total=sum((t["functional_total"] for t in totals.values()), ZERO),
        snapshot_id=snapshot.pk if snapshot is not None else None,
    )
    if ledger is not None:
        block.control = [
            {"currency": c, "aging_total": totals.get(c, {}).get("total", ZERO), "control_balance": ledger.get(c, ZERO),
             "difference": ledger.get(c, ZERO) - totals.get(c, {}).get("total", ZERO)}
            for c in sorted(set(ledger) | set(totals))
        ]
    return block


def _by_oldest_overdue(groups: list[dict[str, Any]], buckets: tuple[Bucket, ...]) -> list[dict[str, Any]]:
    """Per customer: the whole debit balance moves to the bucket of its oldest overdue document
    (per currency; credits and unapplied cash stay where they are)."""
    n = len(buckets)
    for g in groups:
        total = sum(g["debit"], ZERO)
        target = oldest_overdue_index(g["debit"], buckets)
        g["debit"] = [total if i == target else ZERO for i in range(n)]
    return groups


def _label_rows(dimension: Dimension, blocks: list[EntityAging]) -> None:
    keys = {row.key for block in blocks for row in block.rows}
    labels = dimension.labels(keys) if keys else {}
    for block in blocks:
        for row in block.rows:
            row.info = labels.get(row.key, {})
            row.label = row.info.get("label") or ("(none)" if row.key in (None, "") else str(row.key))


# --- drill-down -------------------------------------------------------------------------------

def open_items_as_of(*, customer_id: int, as_of: dt.date, legal_entity_id: int | None = None,
                     currency: str | None = None, basis: str = "due") -> list[dict[str, Any]]:
    """One customer's items open at the end of `as_of` with the amount then open and their age
    in days: one query (the later lines summed per item in a subquery)."""
    from django.db.models import OuterRef, Subquery, Sum

    from otc.aggregates import MONEY_FIELD

    later = (JournalLine.objects.filter(open_item=OuterRef("pk"), entry__entry_date__gt=as_of).order_by()
             .values("open_item").annotate(s=Sum("amount")).values("s"))
    items = OpenItem.objects.filter(customer_id=customer_id)
    if legal_entity_id:
        items = items.filter(legal_entity_id=legal_entity_id)
    if currency:
        items = items.filter(currency=currency.upper())
    rows = (
        items.annotate(later=Coalesce(Subquery(later, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD))
        .annotate(open_at=F("open_amount") - F("later")).exclude(open_at=0)
        .select_related("legal_entity", "account", "source_type").order_by("legal_entity__code", _REF[basis], "id")
    )
    out = []
    for item in rows:
        reference = getattr(item, _REF[basis])
        kind = ("unapplied" if item.account.role == Account.Role.UNAPPLIED_CASH
                else "debit" if item.original_amount > 0 else "credit")
        out.append({"item": item, "open_at": money_value(item.open_at), "days": (as_of - reference).days, "kind": kind})
    return out


def ensure_rate(entity: LegalEntity, currency: str, as_of: dt.date) -> Decimal:
    try:
        return fx_rate_for(from_currency=currency, to_currency=entity.functional_currency, on=as_of)
    except DomainError as exc:
        raise ValidationFailed(exc.message, fields={"as_of": [exc.message]}) from exc
