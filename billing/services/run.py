"""The month-end billing run: generate drafts in parallel chunks with an exceptions list, then
issue every draft that passes.

Which month bills what is `billing/periods.py`'s rule: the run of month M bills advance periods
starting in M and arrears periods (usage, milestones) ending in M-1. Every run invoice carries
`billing_period_start` = the first day of M, and the constraint `invoice_once_per_contract_period`
allows one non-void invoice per (contract, month).

Exactly once, under retries and races:
- A chunk runs in one transaction and first locks its contracts `FOR UPDATE` in primary-key
  order. A second worker generating the same contracts (a redelivered task, or a second run
  for the same month) waits for the first to commit, then sees its invoices and skips them.
- Whatever this run already did for a contract (its invoice, or an exception row) is its trace:
  a redelivered chunk skips traced contracts entirely, so the F() counters stay exact.
- The unique constraint still decides if anything bypasses the locks (a manual invoice typed
  for the same contract and month): the bulk insert runs in a savepoint; on IntegrityError the
  chunk falls back to one savepoint per invoice and records the losers as "already invoiced".
  (We do not use `bulk_create(ignore_conflicts=True)`: it returns no primary keys, so the lines
  could not be attached to exactly the invoices this chunk inserted.)
- Issuing goes through `invoices_issue`, which locks the drafts, skips what is no longer a draft
  or is on hold, and assigns gapless numbers per chunk; re-running issues only what is left.

Exception codes (BillingException.code): customer_blocked, already_invoiced, no_lines,
nothing_to_bill, tax_code_missing (skip); customer_on_hold, po_missing (hold: a held draft);
missing_tax_id, usage_missing (warning: billed); issue_failed (the draft stays a draft: fix and
re-run the issue). `exceptions_count` counts the rows that need a
person's attention, i.e. all but the informational already_invoiced and nothing_to_bill.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any, NamedTuple, cast

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum

from billing.models import BillingException, BillingRun, Invoice, InvoiceLine
from billing.periods import add_months, bill_month, month_end, month_start, slices_from_versions
from billing.services.invoices import (
    invoices_number,
    invoices_post_numbered,
    line_tax,
    queue_documents_on_commit,
)
from billing.tax import TaxCodeMissing, TaxTable, has_valid_vat_id, tax_code_for
from contracts.models import Contract, ContractLine, ContractVersion, Product, UsageRecord
from customers.models import Customer
from ledger.models import LegalEntity
from otc import dates
from otc.bulk import (
    analyze_if_stale,
    bulk_insert_rows,
    bulk_insert_values,
    collector_paused,
    history_insert,
    new_instance,
)
from otc.countries import EU_COUNTRIES
from otc.errors import DomainError, InvalidTransition, PermissionDenied
from otc.models import User
from otc.money import ZERO
from otc.registry import credit_holds

logger = logging.getLogger("otc.billing.run")
CHUNK_SIZE = 1000
ISSUE_CHUNK_SIZE = 1000
INSERT_BATCH = 500
BILLABLE_STATUSES = ("active", "approved", "superseded", "expired", "terminated")
INFO_CODES = frozenset({"already_invoiced", "nothing_to_bill"})
SKIP, HOLD, WARNING = BillingException.Severity.SKIP, BillingException.Severity.HOLD, BillingException.Severity.WARNING


def _require(by: User | None) -> None:
    if by is not None and not by.has_perm("billing.start_billing_run"):
        raise PermissionDenied("Your role may not start or issue billing runs.")


def billable_contract_ids(*, period_start: dt.date, legal_entity_id: int | None = None) -> list[int]:
    """Contracts with a version in force at some point in the run's month or the month before
    (arrears, usage and milestones look back one month), in one query."""
    month = month_start(period_start)
    prev = add_months(month, -1)
    versions = ContractVersion.objects.filter(
        status__in=BILLABLE_STATUSES, effective_date__lte=month_end(month), start_date__lte=month_end(month),
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=prev)).filter(
        Q(contract__terminated_on__isnull=True) | Q(contract__terminated_on__gte=prev))
    if legal_entity_id is not None:
        versions = versions.filter(contract__legal_entity_id=legal_entity_id)
    return list(versions.order_by("contract_id").values_list("contract_id", flat=True).distinct())


def _enqueue(run_id: int, chunks: list[list[int]]) -> None:
    from billing.tasks import billing_run_generate_chunk_task

    for ids in chunks:
        billing_run_generate_chunk_task.delay(run_id, ids)


@transaction.atomic(durable=True)
def billing_run_start(*, period_start: dt.date, by: User | None, legal_entity_id: int | None = None,
                      chunk_size: int = CHUNK_SIZE) -> BillingRun:
    """Create the run for the month of `period_start`, find the billable contracts and enqueue one
    generation task per chunk after commit (in-process when Celery is eager)."""
    _require(by)
    month = month_start(period_start)
    ids = billable_contract_ids(period_start=month, legal_entity_id=legal_entity_id)
    run = BillingRun.objects.create(
        period_start=month, legal_entity_id=legal_entity_id, started_by=by, contracts_total=len(ids),
        status=BillingRun.Status.GENERATING if ids else BillingRun.Status.GENERATED,
        finished_at=None if ids else dates.now(),
    )
    chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
    transaction.on_commit(lambda: _enqueue(run.pk, chunks))
    return run


@transaction.atomic(durable=True)
def billing_run_resume(*, run_id: int, by: User | None, chunk_size: int = CHUNK_SIZE) -> BillingRun:
    """Finish a run whose workers died: enqueue again the billable contracts that have no trace
    in this run yet (no invoice, no exception row). Contracts already done are not touched, so
    resuming twice, or while a slow worker is still busy, bills nothing twice."""
    _require(by)
    run = BillingRun.objects.select_for_update(of=("self",)).get(pk=run_id)
    if run.status != BillingRun.Status.GENERATING:
        raise InvalidTransition(f"{run} is {run.get_status_display().lower()}: only a run still generating resumes.")
    ids = set(billable_contract_ids(period_start=run.period_start, legal_entity_id=run.legal_entity_id))
    traced = set(Invoice.objects.filter(billing_run=run).values_list("contract_id", flat=True))
    traced |= set(BillingException.objects.filter(run=run).exclude(contract=None).values_list("contract_id", flat=True))
    todo = sorted(ids - traced)
    run.contracts_total = len(ids | traced)
    run.save(update_fields=["contracts_total"])
    if not todo:
        BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.GENERATED, finished_at=dates.now())
        run.refresh_from_db()
        return run
    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    transaction.on_commit(lambda: _enqueue(run.pk, chunks))
    return run


class _DraftLine(NamedTuple):
    """An invoice line before its invoice has a key (inserted as values, not model objects)."""

    position: int
    contract_line_key: Any
    product_id: int | None
    description: str
    unit: str
    service_start: dt.date
    service_end: dt.date
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_code_id: int
    tax_rate: Decimal
    tax_amount: Decimal
    revenue_account_code: str


class _Chunk:
    """What one chunk generation collects before writing it in bulk."""

    def __init__(self, run: BillingRun) -> None:
        self.run = run
        self.exceptions: list[BillingException] = []
        self.invoices: list[Invoice] = []
        self.lines: dict[int, list[_DraftLine]] = {}   # contract id -> its lines
        self.valid_vat_ids: dict[int, bool] = {}  # customer id -> its VAT id passes the checksum
        self.skipped = 0

    def exception(self, contract: Contract | _ContractRow, code: str, severity: str, message: str) -> None:
        self.exceptions.append(new_instance(BillingException, {  # thousands a run: built positionally
            "run_id": self.run.pk, "contract_id": contract.pk, "customer_id": contract.customer_id, "code": code,
            "severity": severity, "message": message[:2000]}))


# What generation reads of contracts, versions and lines, as plain rows rather than model
# objects: a chunk reads thousands of each, and building a model instance per row (descriptors,
# signals, state) cost more than billing them.
class _ContractRow:
    """A contract as generation reads it (plus its customer, entity and credit hold, attached)."""

    __slots__ = ("pk", "number", "customer_id", "legal_entity_id", "terminated_on", "customer", "legal_entity",
                 "_credit_hold")
    customer: Customer  # attached by billing_run_generate_chunk, one object per customer and entity
    legal_entity: LegalEntity

    def __init__(self, pk: int, number: str, customer_id: int, legal_entity_id: int,
                 terminated_on: dt.date | None) -> None:
        self.pk, self.number, self.customer_id, self.legal_entity_id = pk, number, customer_id, legal_entity_id
        self.terminated_on, self._credit_hold = terminated_on, ""

    @property
    def id(self) -> int:
        return self.pk


CONTRACT_FIELDS = ("id", "number", "customer_id", "legal_entity_id", "terminated_on")


class _VersionRow(NamedTuple):
    """What generation reads of a version (billing/periods.py and the draft's header); a field
    missing here would cost a query per row, which the query-count test catches."""

    id: int
    contract_id: int
    version: int
    currency: str
    start_date: dt.date
    end_date: dt.date | None
    effective_date: dt.date
    billing_frequency: str
    billing_timing: str
    discount_percent: Decimal
    free_periods: int
    payment_terms_days: int | None
    po_number: str


class _LineRow(NamedTuple):
    """What generation reads of a contract line (as `_VersionRow`), plus its product, attached."""

    id: int
    version_id: int
    line_key: uuid.UUID
    kind: str
    description: str
    product_id: int
    unit_price: Decimal
    quantity: Decimal
    discount_percent: Decimal
    minimum_commitment: Decimal
    milestone_date: dt.date | None
    start_date: dt.date | None
    end_date: dt.date | None
    position: int
    product: Product | None

    @property
    def pk(self) -> int:  # sorted by (position, pk)
        return self.id


VERSION_FIELDS = _VersionRow._fields
LINE_FIELDS = _LineRow._fields[:-1]  # all but the product, attached after


def _is_eu_b2b_without_tax_id(contract: _ContractRow) -> bool:
    return contract.customer.country in EU_COUNTRIES and contract.legal_entity.country in EU_COUNTRIES \
        and not contract.customer.tax_id


def _tax_key(seller_country: str, customer: Customer, category: str, on: dt.date,
             valid_vat_ids: dict[int, bool]) -> tuple:
    """What `tax_code_for` depends on, so one chunk looks each combination up once rather than
    once per customer (the VAT id checksum is computed once per customer: `valid_vat_ids` is the chunk's)."""
    valid = valid_vat_ids.get(customer.pk)
    if valid is None:
        valid = valid_vat_ids[customer.pk] = has_valid_vat_id(customer)
    return (seller_country, customer.country, customer.tax_exempt, valid, category, on)


def _build(chunk: _Chunk, contract: _ContractRow, versions: list[_VersionRow], lines_by_version: dict,
           usage: dict, tax_cache: dict, products: dict) -> None:
    run, customer, month = chunk.run, contract.customer, chunk.run.period_start
    label = f"{month:%Y-%m}"
    if customer.status == Customer.Status.BLOCKED:
        chunk.exception(contract, "customer_blocked", SKIP,
                        f"{customer.legal_name} is blocked ({customer.status_reason}): {contract.number} not billed.")
        chunk.skipped += 1
        return
    if not any(lines_by_version.get(v.id) for v in versions):
        chunk.exception(contract, "no_lines", SKIP, f"{contract.number} has no lines to bill.")
        chunk.skipped += 1
        return
    bill = bill_month(slices=slices_from_versions(versions, lines_by_version), month=month, usage=usage,
                      terminated_on=contract.terminated_on)
    if not bill.lines:
        chunk.exception(contract, "nothing_to_bill", SKIP, f"{contract.number}: nothing falls due in the {label} run.")
        chunk.skipped += 1
        return
    invoice_lines: list[_DraftLine] = []
    for position, spec in enumerate(bill.lines, start=1):
        product = products.get(spec.product_id)
        category = product.tax_category if product else "standard"
        key = _tax_key(contract.legal_entity.country, customer, category, spec.service_end,
                       chunk.valid_vat_ids)
        if key not in tax_cache:
            try:
                tax_cache[key] = tax_code_for(seller_country=contract.legal_entity.country, customer=customer,
                                              category=category, on=spec.service_end, table=tax_cache["table"])
            except TaxCodeMissing as exc:
                tax_cache[key] = exc
        code = tax_cache[key]
        if isinstance(code, TaxCodeMissing):
            chunk.exception(contract, "tax_code_missing", SKIP, f"{contract.number}: {code}")
            chunk.skipped += 1
            return
        # The net as billing/periods.py computed it (from the unrounded prorated price), rounded once.
        net = spec.net
        tax = line_tax(net=net, tax_rate=code.rate, currency=bill.currency)
        invoice_lines.append(_DraftLine(
            position=position, contract_line_key=spec.line_key, product_id=product.pk if product else None,
            description=spec.description, unit=spec.unit, service_start=spec.service_start,
            service_end=spec.service_end, quantity=spec.quantity, unit_price=spec.unit_price,
            discount_percent=spec.discount_percent, net_amount=net, tax_code_id=code.pk, tax_rate=code.rate,
            tax_amount=tax, revenue_account_code=product.revenue_account_code if product else "4000",
        ))
    for code, message in bill.warnings:
        chunk.exception(contract, code, WARNING, f"{contract.number}: {message}")
    if _is_eu_b2b_without_tax_id(contract):
        chunk.exception(contract, "missing_tax_id", WARNING,
                        f"{customer.legal_name} ({customer.country}) has no VAT id on file: billed with domestic VAT.")
    holds = []
    if customer.status == Customer.Status.ON_HOLD:
        reason = f"Customer on hold: {customer.status_reason}" if customer.status_reason else "Customer on hold"
        holds.append(reason)
        chunk.exception(contract, "customer_on_hold", HOLD, f"{contract.number}: {reason}; the draft is held.")
    elif contract._credit_hold:
        reason = f"Customer {contract._credit_hold}"
        holds.append(reason)
        chunk.exception(contract, "customer_on_hold", HOLD, f"{contract.number}: {reason}; the draft is held.")
    terms = max(versions, key=lambda v: v.version)
    if customer.po_required and not terms.po_number:
        holds.append("PO number required")
        chunk.exception(contract, "po_missing", HOLD,
                        f"{customer.legal_name} requires a PO number and {contract.number} has none; the draft is held.")
    net_total = sum((line.net_amount for line in invoice_lines), ZERO)
    tax_total = sum((line.tax_amount for line in invoice_lines), ZERO)
    chunk.invoices.append(new_instance(Invoice, {  # a thousand drafts a chunk: built positionally
        "legal_entity_id": contract.legal_entity_id, "customer_id": customer.pk, "contract_id": contract.pk,
        "billing_period_start": month, "billing_run_id": run.pk, "currency": bill.currency, "on_hold": bool(holds),
        "hold_reason": "; ".join(holds)[:255], "po_number": terms.po_number,
        "payment_terms_days": terms.payment_terms_days if terms.payment_terms_days is not None else customer.payment_terms_days,
        "service_start": min(line.service_start for line in invoice_lines),
        "service_end": max(line.service_end for line in invoice_lines),
        "net_total": net_total, "tax_total": tax_total, "gross_total": net_total + tax_total, "created_by_id": run.started_by_id,
    }))
    chunk.lines[contract.pk] = invoice_lines


def _insert_invoices(chunk: _Chunk, contracts: dict[int, _ContractRow]) -> list[Invoice]:
    """Insert the drafts in batches; under a conflict with the unique constraint, one savepoint
    per invoice decides which ones were already there."""
    try:
        with transaction.atomic():
            created = bulk_insert_rows(chunk.invoices)
            history_insert(created, created=True, by=chunk.run.started_by, reason="billing run", at=dates.now(),
                           saved=True)  # the rows were just inserted from these objects
            return created
    except IntegrityError:
        pass
    created = []
    for invoice in chunk.invoices:
        invoice.pk = None
        try:
            with transaction.atomic():
                invoice.save()
        except IntegrityError:
            contract = contracts[cast(int, invoice.contract_id)]  # _build made each draft for one of them
            chunk.exception(contract, "already_invoiced", SKIP,
                            f"{contract.number} already has an invoice for {chunk.run.period_start:%Y-%m}.")
            chunk.skipped += 1
            continue
        created.append(invoice)
    return created


@collector_paused()  # thousands of rows and objects per chunk, no reference cycle to find (decision 0016)
def billing_run_generate_chunk(*, run_id: int, contract_ids: list[int]) -> dict[str, int]:
    """Generate the drafts of some of a run's contracts (idempotent: see the module docstring).
    Returns this call's counts."""
    with transaction.atomic():
        run = BillingRun.objects.get(pk=run_id)
        month = run.period_start
        ids = sorted(set(contract_ids))
        contracts = {row[0]: _ContractRow(*row) for row in Contract.objects.select_for_update(of=("self",))
                     .filter(pk__any=ids).order_by("pk").values_list(*CONTRACT_FIELDS)}
        traced = set(Invoice.objects.filter(billing_run_id=run_id, contract_id__any=ids)
                     .values_list("contract_id", flat=True))
        traced |= set(BillingException.objects.filter(run_id=run_id, contract_id__any=ids)
                      .values_list("contract_id", flat=True))
        todo = [pk for pk in ids if pk in contracts and pk not in traced]
        # One object per customer and entity for the whole chunk: a customer's VAT id is checked once.
        customers = Customer.objects.in_bulk({c.customer_id for c in contracts.values()})
        entities = LegalEntity.objects.in_bulk({c.legal_entity_id for c in contracts.values()})
        for contract in contracts.values():
            contract.customer, contract.legal_entity = customers[contract.customer_id], entities[contract.legal_entity_id]
        # Collections' credit holds apply per legal entity: a hold in one entity holds the
        # customer's drafts there only (one reader call per entity in the chunk).
        by_entity: dict[int, set[int]] = defaultdict(set)
        for contract in contracts.values():
            by_entity[contract.legal_entity_id].add(contract.customer_id)
        entity_holds = {entity_id: credit_holds(customer_ids=ids, legal_entity_id=entity_id)
                        for entity_id, ids in by_entity.items()}
        for contract in contracts.values():
            contract._credit_hold = entity_holds[contract.legal_entity_id].get(contract.customer_id, "")
        existing = dict(Invoice.objects.filter(contract_id__any=todo, billing_period_start=month)
                        .exclude(status=Invoice.Status.VOID).values_list("contract_id", "pk"))
        # Versions and lines in no particular order (`.order_by()`): billing/periods.py sorts a
        # contract's versions by number and a version's lines by (position, id) itself, and the
        # models' default orderings (by the contract's creation time) joined and sorted the
        # contract and version tables for every chunk (decision 0016, session 14).
        versions: dict[int, list[_VersionRow]] = defaultdict(list)
        for row in (ContractVersion.objects.filter(contract_id__any=todo, status__in=BILLABLE_STATUSES)
                    .order_by().values_list(*VERSION_FIELDS)):
            version = _VersionRow(*row)
            versions[version.contract_id].append(version)
        version_ids = [v.id for vs in versions.values() for v in vs]
        line_rows = list(ContractLine.objects.filter(version_id__any=version_ids).order_by().values_list(*LINE_FIELDS))
        product_index = LINE_FIELDS.index("product_id")
        products: dict[int, Any] = Product.objects.in_bulk({row[product_index] for row in line_rows
                                                            if row[product_index]})
        lines_by_version: dict[int, list[_LineRow]] = defaultdict(list)
        for row in line_rows:  # one product object per product, not per line
            line = _LineRow._make((*row, products.get(row[product_index])))
            lines_by_version[line.version_id].append(line)
        del line_rows
        usage: dict[int, dict[Any, Decimal]] = defaultdict(dict)
        for row in (UsageRecord.objects.filter(contract_id__any=todo, period_start=add_months(month, -1))
                    .values("contract_id", "line_key").annotate(total=Sum("quantity")).order_by()):
            usage[row["contract_id"]][row["line_key"]] = row["total"]

        chunk, tax_cache = _Chunk(run), {"table": TaxTable()}
        for pk in todo:
            contract = contracts[pk]
            if pk in existing:
                chunk.exception(contract, "already_invoiced", SKIP,
                                f"{contract.number} already has invoice #{existing[pk]} for {month:%Y-%m}.")
                chunk.skipped += 1
                continue
            _build(chunk, contract, versions.get(pk, []), lines_by_version, usage.get(pk, {}), tax_cache, products)

        created = _insert_invoices(chunk, contracts) if chunk.invoices else []
        # _build made each draft for one of the chunk's contracts: its contract_id is set
        bulk_insert_values(InvoiceLine, ["invoice_id", *_DraftLine._fields],
                           [(invoice.pk, *line) for invoice in created
                            for line in chunk.lines[cast(int, invoice.contract_id)]])
        BillingException.objects.bulk_create(chunk.exceptions, batch_size=INSERT_BATCH, ignore_conflicts=True)
        attention = sum(1 for e in chunk.exceptions if e.code not in INFO_CODES)
        counts = {"contracts": len(todo), "invoices": len(created), "skipped": chunk.skipped,
                  "exceptions": attention, "already_done": len(ids) - len(todo)}
        # Last, so the run row is locked only briefly: the last chunk to commit sees every count.
        BillingRun.objects.filter(pk=run_id).update(
            contracts_done=F("contracts_done") + len(todo), invoices_created=F("invoices_created") + len(created),
            skipped=F("skipped") + chunk.skipped, exceptions_count=F("exceptions_count") + attention,
        )
        run.refresh_from_db(fields=["contracts_done", "contracts_total", "status"])
        if run.status == BillingRun.Status.GENERATING and run.contracts_done >= run.contracts_total:
            BillingRun.objects.filter(pk=run_id, status=BillingRun.Status.GENERATING).update(
                status=BillingRun.Status.GENERATED, finished_at=dates.now())
    return counts


@collector_paused()  # as generation: the collector's passes over a chunk's objects find nothing
def _issue_chunk(run_id: int, invoice_ids: list[int], by: User | None, issue_date: dt.date | None) -> int:
    """Issue one chunk in two transactions: (1) number it, a short transaction holding the
    entity's series rows only for one set-based UPDATE; (2) post it, in parallel with the
    entity's other chunks. A failure in (2) (a killed worker, a lost connection) leaves the drafts
    numbered: the retry posts them with the same numbers, so nothing is skipped or taken twice."""
    started = time.perf_counter()
    with transaction.atomic(durable=True):
        numbered = invoices_number(invoice_ids=invoice_ids, issue_date=issue_date)
    numbering = time.perf_counter()
    if not numbered:
        return 0
    with transaction.atomic(durable=True):
        issued = invoices_post_numbered(invoices=numbered, by=by)
        queue_documents_on_commit(issued)
        BillingRun.objects.filter(pk=run_id).update(invoices_issued=F("invoices_issued") + len(issued))
    # bench/billing_run.py reads these (the numbering transaction holds the series lock).
    logger.info("issue chunk: %d numbered in %.3f s, %d posted in %.3f s", len(numbered), numbering - started,
                len(issued), time.perf_counter() - numbering)
    return len(issued)


def _record_issue_failure(run_id: int, invoice_id: int, exc: DomainError) -> None:
    invoice = Invoice.objects.select_related("contract").get(pk=invoice_id)
    with transaction.atomic(durable=True):
        _, created = BillingException.objects.update_or_create(
            run_id=run_id, contract=invoice.contract, code="issue_failed",
            defaults={"customer_id": invoice.customer_id, "severity": HOLD,
                      "message": f"Draft #{invoice_id} was not issued: {exc}"[:2000]})
        if created:
            BillingRun.objects.filter(pk=run_id).update(exceptions_count=F("exceptions_count") + 1)


def billing_run_issue(*, run_id: int, by: User | None, issue_date: dt.date | None = None,
                      chunk_size: int = ISSUE_CHUNK_SIZE) -> BillingRun:
    """Issue every draft of the run that is not on hold, in chunks.

    Every chunk is its own task, enqueued at once, so as many workers as there are share the
    chunks, also those of one legal entity: a chunk takes its block of gapless numbers under a
    short lock of the entity's series (one set-based UPDATE, then commit) and then posts and
    writes its open items in parallel with the others (`_issue_chunk`). The run records the
    chunks still issuing (by their first draft's id); the last to finish marks the run issued.
    Safe to re-run: only what is still a draft is issued (drafts numbered by a chunk that died
    keep their numbers). With eager Celery (dev, tests) everything has happened when this returns."""
    _require(by)
    # The drafts were just bulk-loaded: statistics for the issuing's plans (otc.bulk).
    analyze_if_stale(Invoice, InvoiceLine)
    with transaction.atomic():
        run = BillingRun.objects.select_for_update(of=("self",)).get(pk=run_id)
        if run.status == BillingRun.Status.GENERATING:
            raise InvalidTransition(f"{run} is still generating drafts ({run.contracts_done} of "
                                    f"{run.contracts_total} contracts): issue when it is done.")
        if run.status == BillingRun.Status.FAILED:
            raise InvalidTransition(f"{run} failed: start a new run for {run.period_start:%Y-%m}.")
        drafts: dict[int, list[int]] = defaultdict(list)
        for pk, entity_id in _issuable(run_id).order_by("pk").values_list("pk", "legal_entity_id"):
            drafts[entity_id].append(pk)
        per_entity = {entity_id: [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
                      for entity_id, ids in sorted(drafts.items())}
        # Round robin over the entities, so that every worker has work from the start.
        chunks = [(entity_id, entity_chunks[k]) for k in range(max(map(len, per_entity.values()), default=0))
                  for entity_id, entity_chunks in per_entity.items() if k < len(entity_chunks)]
        run.status, run.finished_at = BillingRun.Status.ISSUING, None
        run.issue_pending = [ids[0] for _, ids in chunks]
        run.save(update_fields=["status", "finished_at", "issue_pending"])
        if not chunks:
            _finish_issue(run_id, None)
    # After the commit above (this is an entry point, not called inside a transaction), so the
    # workers see the run as issuing.
    _enqueue_issue(run_id, chunks, by.pk if by is not None else None, issue_date.isoformat() if issue_date else None)
    run.refresh_from_db()
    return run


def _enqueue_issue(run_id: int, chunks: list[tuple[int, list[int]]], by_id: int | None, on: str | None) -> None:
    from billing.tasks import billing_run_issue_chunk_task

    for entity_id, ids in chunks:
        billing_run_issue_chunk_task.delay(run_id=run_id, legal_entity_id=entity_id, chunks=[ids], by_id=by_id,
                                           issue_date=on)


def _issuable(run_id: int) -> QuerySet[Invoice]:
    return Invoice.objects.filter(billing_run_id=run_id, status=Invoice.Status.DRAFT, on_hold=False)


def billing_run_issue_chunk(*, run_id: int, legal_entity_id: int, chunks: list[list[int]], by: User | None,
                            issue_date: dt.date | None = None) -> int:
    """Issue one chunk of one entity's drafts (`chunks[0]`; a task enqueued before parallel
    chunks may carry the rest of its entity's chain, which is enqueued next), then strike it off
    the run's pending list. A chunk refused by a domain rule is retried invoice by invoice so
    the rest are issued and each failure is listed on the run; any other failure (database,
    killed worker) propagates, and the task's retry posts the numbered drafts with their numbers.
    Returns how many were issued."""
    _require(by)
    chunk, rest = (chunks[0] if chunks else []), chunks[1:]
    issued = 0
    try:
        issued = _issue_chunk(run_id, chunk, by, issue_date) if chunk else 0
    except DomainError:
        # Numbering is all-or-nothing per chunk (its numbers return to the series) and so is
        # posting: find the culprits one by one so the rest are issued, and list each failure.
        for invoice_id in chunk:
            try:
                issued += _issue_chunk(run_id, [invoice_id], by, issue_date)
            except DomainError as exc:
                _record_issue_failure(run_id, invoice_id, exc)
    if rest:
        from billing.tasks import billing_run_issue_chunk_task

        billing_run_issue_chunk_task.delay(run_id=run_id, legal_entity_id=legal_entity_id, chunks=rest,
                                           by_id=by.pk if by is not None else None,
                                           issue_date=issue_date.isoformat() if issue_date else None)
    _finish_issue(run_id, chunk[0] if chunk else None)
    return issued


def _finish_issue(run_id: int, chunk_key: int | None) -> None:
    """Strike the chunk off the run's pending list (idempotent, under the run row's lock); when
    none is left, the run is issued, with the drafts that failed counted in its error."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update(of=("self",)).get(pk=run_id)
        if run.status != BillingRun.Status.ISSUING:
            return
        run.issue_pending = [pk for pk in run.issue_pending if pk != chunk_key]
        if not run.issue_pending:
            failed_contracts = BillingException.objects.filter(run_id=run_id, code="issue_failed").values("contract_id")
            failed = _issuable(run_id).filter(contract_id__in=failed_contracts).count()
            run.status, run.finished_at = BillingRun.Status.ISSUED, dates.now()
            run.error = f"{failed} draft(s) could not be issued: see the exceptions." if failed else ""
        run.save(update_fields=["issue_pending", "status", "finished_at", "error"])
    billing_run_documents_check(run_id)


def billing_run_documents_check(run_id: int) -> bool:
    """The month-end is finished when the run is issued and every invoice it issued has its PDF
    and a delivery outcome (e-mailed, queued for its portal or to post, or a failure listed on
    the invoice): then `documents_done_at` is stamped, once. Called by each documents task after
    its chunk and when issuing ends (whichever is last). Returns whether the run is finished."""
    from billing.selectors import run_documents_progress

    run = BillingRun.objects.only("status", "documents_done_at").get(pk=run_id)
    if run.documents_done_at is not None:
        return True
    if run.status != BillingRun.Status.ISSUED:
        return False
    progress = run_documents_progress(run_id=run_id)
    if progress["done"] < progress["issued"] or progress["rendered"] < progress["issued"]:
        return False
    BillingRun.objects.filter(pk=run_id, documents_done_at=None).update(documents_done_at=dates.now())
    return True


__all__ = ["billable_contract_ids", "billing_run_documents_check", "billing_run_generate_chunk", "billing_run_issue", "billing_run_issue_chunk",
           "billing_run_resume", "billing_run_start"]
