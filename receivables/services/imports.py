"""Bank-statement import: a file is parsed (receivables.parsers), checked against the bank
accounts on file, and its money-in lines recorded as receipts, all in one transaction; a file
already imported (same SHA-256) or a transaction already recorded (same bank reference on the
account) is skipped, and a malformed file is refused whole with the parser's message naming the
line or element. Money out (returned payments, fees) is counted, not recorded: a returned
payment is handled on its receipt (reverse)."""

from __future__ import annotations

import dataclasses
import hashlib

from django.db import transaction
from django.db.models import F

from otc.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from otc.models import User
from receivables.models import BankAccount, BankStatement, Receipt, StatementImport
from receivables.parsers import CsvMapping, detect_format, parse_statement

from .receipts import ReceiptInput, normalize_account, receipts_record


def _check(data: bytes, file_name: str, by: User | None) -> str:
    if by is None or not by.has_perm("receivables.import_statement"):
        raise PermissionDenied("Your role may not import bank statements.")
    digest = hashlib.sha256(data).hexdigest()
    earlier = StatementImport.objects.filter(sha256=digest).first()
    if earlier is not None:
        raise Conflict(f"{file_name} was already imported on {earlier.imported_at:%Y-%m-%d %H:%M} as import "
                       f"#{earlier.pk} ({earlier.file_name}); nothing was imported again.", code="duplicate_file")
    return digest


@transaction.atomic(durable=True)
def statement_import(*, data: bytes, file_name: str, by: User, format: str | None = None,  # noqa: A002
                     csv_mapping: CsvMapping | None = None, auto_match: bool = True) -> StatementImport:
    """Import one statement file (all or nothing). Returns the import with its counts; receipts
    are then matched and, above the confidence threshold, applied (`auto_match`)."""
    digest = _check(data, file_name, by)
    statements = parse_statement(data, format=format, csv_mapping=csv_mapping)
    run = StatementImport.objects.create(file_name=file_name[:255], format=statements[0].format if statements else
                                         (format or "csv"), sha256=digest, imported_by=by)
    recorded = _record(run, statements, by)
    if auto_match and recorded:
        from .matching import receipts_auto_match

        run.auto_applied = receipts_auto_match(receipt_ids=[r.pk for r in recorded]).applied
    run.save(update_fields=["statements", "receipts_created", "duplicates_skipped", "debits_skipped", "auto_applied"])
    return run


@transaction.atomic(durable=True)
def statement_import_start(*, data: bytes, file_name: str, by: User, format: str | None = None,  # noqa: A002
                           csv_mapping: CsvMapping | None = None) -> StatementImport:
    """Queue a (large) file for import in the background: the import row says "queued" and keeps the
    bytes until `statement_import_run` (a Celery task) has read, recorded and matched them, showing its
    progress on the import page. Refused at once: the permission, a file seen before."""
    digest = _check(data, file_name, by)
    kind = format or detect_format(data)
    options = {"format": format or "", "csv": dataclasses.asdict(csv_mapping) if csv_mapping else None}
    run = StatementImport.objects.create(file_name=file_name[:255], format=kind, sha256=digest, imported_by=by,
                                         status=StatementImport.Status.QUEUED, pending_data=data,
                                         pending_options=options)
    from receivables.tasks import statement_import_task

    statement_import_task.delay_on_commit(import_id=run.pk)
    return run


MATCH_CHUNK = 500


def statement_import_run(*, import_id: int) -> StatementImport:
    """The background import: read and record all or nothing (a refusal marks the import refused with
    the parser's message and frees its file hash), then match in chunks, counting progress. A
    redelivered task does nothing for an import no longer queued."""
    claimed = StatementImport.objects.filter(pk=import_id, status=StatementImport.Status.QUEUED).update(
        status=StatementImport.Status.IMPORTING)
    run = StatementImport.objects.get(pk=import_id)
    if not claimed:
        return run
    options = run.pending_options or {}
    mapping = None
    if options.get("csv"):
        raw = dict(options["csv"])
        if isinstance(raw.get("remittance"), list):
            raw["remittance"] = tuple(raw["remittance"])
        mapping = CsvMapping(**raw)
    try:
        with transaction.atomic():
            statements = parse_statement(bytes(run.pending_data or b""), format=options.get("format") or None,
                                         csv_mapping=mapping)
            recorded = _record(run, statements, run.imported_by)
            run.status = StatementImport.Status.MATCHING
            run.save(update_fields=["statements", "receipts_created", "duplicates_skipped", "debits_skipped",
                                    "status"])
    except DomainError as exc:
        StatementImport.objects.filter(pk=run.pk).update(
            status=StatementImport.Status.FAILED, error=exc.message, pending_data=None, sha256=f"refused-{run.pk}")
        run.refresh_from_db()
        return run
    from .matching import matching_book_for, receipts_auto_match

    ids = [r.pk for r in recorded]
    book = matching_book_for(recorded) if recorded else None  # the open invoices read once, not per chunk
    for start in range(0, len(ids), MATCH_CHUNK):
        chunk = ids[start:start + MATCH_CHUNK]
        applied = receipts_auto_match(receipt_ids=chunk, book=book).applied
        StatementImport.objects.filter(pk=run.pk).update(receipts_matched=F("receipts_matched") + len(chunk),
                                                         auto_applied=F("auto_applied") + applied)
    StatementImport.objects.filter(pk=run.pk).update(status=StatementImport.Status.DONE, pending_data=None)
    run.refresh_from_db()
    return run


def _record(run: StatementImport, statements, by: User | None) -> list:
    """Check the statements against the bank accounts on file and record their money-in lines."""
    accounts = {account.account_number: account for account in BankAccount.objects.filter(is_active=True)}
    items: list[ReceiptInput] = []
    debits = 0
    for parsed in statements:
        account = accounts.get(normalize_account(parsed.account_number))
        if account is None:
            raise ValidationFailed(f"Statement {parsed.statement_id or parsed.statement_date} is for account "
                                   f"{parsed.account_number}, which is not a bank account on file: add it first "
                                   "(nothing was imported).", fields={"file": ["unknown account"]})
        if parsed.currency != account.currency:
            raise ValidationFailed(f"Statement {parsed.statement_id} for {account} is in {parsed.currency}; the "
                                   f"account is in {account.currency} (nothing was imported).")
        statement = BankStatement.objects.create(
            statement_import=run, bank_account=account, statement_id=parsed.statement_id[:60],
            statement_date=parsed.statement_date, opening_balance=parsed.opening_balance,
            closing_balance=parsed.closing_balance, transactions=len(parsed.transactions))
        for line in parsed.transactions:
            if line.amount <= 0:
                debits += 1
                continue
            if line.currency != account.currency:
                raise ValidationFailed(f"{line.location}: a {line.currency} amount on the {account.currency} account "
                                       f"{account} (nothing was imported).")
            items.append(ReceiptInput(
                bank_account_id=account.pk, value_date=line.value_date, amount=line.amount, currency=line.currency,
                payer_name=line.payer_name, payer_account=line.payer_account, remittance=line.remittance,
                bank_reference=line.bank_reference, end_to_end_id=line.end_to_end_id, statement_id=statement.pk))
    recorded = receipts_record(items=items, by=by, source=Receipt.Source.STATEMENT)
    run.statements, run.receipts_created = len(statements), len(recorded)
    run.duplicates_skipped, run.debits_skipped = len(recorded.duplicates), debits
    return recorded
