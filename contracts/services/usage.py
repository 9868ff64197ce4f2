"""Usage the CRM or a metering system reports for usage lines, idempotent by source id."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from otc.errors import InvalidAmount, InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import check_plausible_quantity, parse_amount

from ..models import Contract, ContractLine, UsageRecord
from .common import ensure_access, lock_contract

IN_FORCE = (Contract.Status.ACTIVE, Contract.Status.EXPIRED, Contract.Status.TERMINATED)


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Please correct: {field}: {message}", fields={field: [message]})


def _parse(item: dict[str, Any], prefix: str) -> tuple[uuid.UUID, dt.date, Decimal, str]:
    try:
        key = item["line_key"] if isinstance(item["line_key"], uuid.UUID) else uuid.UUID(str(item["line_key"]))
    except (KeyError, ValueError, TypeError):
        raise _fail(f"{prefix}line_key", "Enter the usage line's key (a UUID).") from None
    period = item.get("period_start")
    if isinstance(period, str):
        try:
            period = dt.date.fromisoformat(period)
        except ValueError:
            raise _fail(f"{prefix}period_start", f"{period!r} is not a date: use YYYY-MM-DD.") from None
    if not isinstance(period, dt.date) or isinstance(period, dt.datetime):
        raise _fail(f"{prefix}period_start", "Enter the month's date (YYYY-MM-DD).")
    quantity = item.get("quantity")
    if isinstance(quantity, float):
        raise _fail(f"{prefix}quantity", 'Send quantities as strings, e.g. "12.5", not as floating-point numbers.')
    try:
        quantity = parse_amount(quantity)
    except InvalidAmount as exc:
        raise _fail(f"{prefix}quantity", exc.message) from None
    if quantity < 0:
        raise _fail(f"{prefix}quantity", "A quantity cannot be negative.")
    try:
        check_plausible_quantity(quantity, "E48")  # usage counts (transactions, gigabytes) run to billions
    except InvalidAmount as exc:
        raise _fail(f"{prefix}quantity", exc.message) from None
    source_id = str(item.get("source_id") or "").strip()
    if not source_id or len(source_id) > 120:
        raise _fail(f"{prefix}source_id", "Enter the source id (at most 120 characters) so a resend changes nothing.")
    return key, period.replace(day=1), quantity, source_id


def usage_records_post(*, contract_id: int, records: list[dict[str, Any]], by: User) -> list[tuple[UsageRecord, bool]]:
    """Post several usage records of one contract, all or nothing (inside the caller's
    transaction). Each: line_key, period_start (normalised to the 1st), quantity, source_id.
    A resend with the same source id returns the stored record (created False); the same
    source id with different data is refused."""
    if not by.has_perm("contracts.add_usagerecord"):
        raise PermissionDenied("Your role may not post usage.")
    contract = lock_contract(contract_id)
    ensure_access(contract, by)
    if contract.status not in IN_FORCE or contract.current_version_id is None:
        raise InvalidTransition(f"{contract.number} is {contract.get_status_display().lower()}: usage is recorded "
                                "only for contracts in force.")
    usage_keys = set(ContractLine.objects.filter(version_id=contract.current_version_id, kind="usage")
                     .values_list("line_key", flat=True))
    parsed = []
    for index, item in enumerate(records):
        prefix = f"records[{index}]." if len(records) > 1 else ""
        key, period, quantity, source_id = _parse(item, prefix)
        if key not in usage_keys:
            raise _fail(f"{prefix}line_key", f"{key} is not a usage line of {contract.number} as in force.")
        parsed.append((prefix, key, period, quantity, source_id))
    existing = {r.source_id: r for r in UsageRecord.objects.filter(source_id__in=[p[4] for p in parsed])}
    results: list[tuple[UsageRecord, bool]] = []
    for prefix, key, period, quantity, source_id in parsed:
        record = existing.get(source_id)
        if record is None:
            try:
                with transaction.atomic():
                    record = UsageRecord.objects.create(contract=contract, line_key=key, period_start=period,
                                                        quantity=quantity, source_id=source_id, created_by=by)
                existing[source_id] = record
                results.append((record, True))
                continue
            except IntegrityError:  # another request stored this source id meanwhile
                record = UsageRecord.objects.get(source_id=source_id)
        if (record.contract_id, record.line_key, record.period_start, record.quantity) != (
                contract.id, key, period, quantity):
            raise _fail(f"{prefix}source_id", f"{source_id} was already recorded with different data "
                        f"({record.quantity} for {record.period_start:%Y-%m}); send a new source id for a correction.")
        results.append((record, False))
    return results


@transaction.atomic(durable=True)
def usage_record_post(*, contract_id: int, line_key: uuid.UUID | str, period_start: dt.date, quantity: Decimal,
                      source_id: str, by: User) -> tuple[UsageRecord, bool]:
    """Record one month's usage of a usage line; idempotent by `source_id`."""
    return usage_records_post(contract_id=contract_id, by=by, records=[{
        "line_key": line_key, "period_start": period_start, "quantity": quantity, "source_id": source_id}])[0]


@transaction.atomic(durable=True)
def usage_records_post_batch(*, contract_id: int, records: list[dict[str, Any]], by: User
                             ) -> list[tuple[UsageRecord, bool]]:
    """usage_records_post as an entry point (the API's list form): all records or none."""
    return usage_records_post(contract_id=contract_id, records=records, by=by)
