"""Bank-statement import: a file is parsed (receivables.parsers), checked against the bank
accounts on file, and its money-in lines recorded as receipts, all in one transaction; a file
already imported (same SHA-256) or a transaction already recorded (same bank reference on the
account) is skipped, and a malformed file is refused whole with the parser's message naming the
line or element. Money out (returned payments, fees) is counted, not recorded: a returned
payment is handled on its receipt (reverse)."""

from __future__ import annotations

import hashlib

from django.db import transaction

from otc.errors import Conflict, PermissionDenied, ValidationFailed
from otc.models import User
from receivables.models import BankAccount, BankStatement, Receipt, StatementImport
from receivables.parsers import CsvMapping, parse_statement

from .receipts import ReceiptInput, normalize_account, receipts_record


@transaction.atomic
def statement_import(*, data: bytes, file_name: str, by: User, format: str | None = None,  # noqa: A002
                     csv_mapping: CsvMapping | None = None, auto_match: bool = True) -> StatementImport:
    """Import one statement file (all or nothing). Returns the import with its counts; receipts
    are then matched and, above the confidence threshold, applied (`auto_match`)."""
    if by is None or not by.has_perm("receivables.import_statement"):
        raise PermissionDenied("Your role may not import bank statements.")
    digest = hashlib.sha256(data).hexdigest()
    earlier = StatementImport.objects.filter(sha256=digest).first()
    if earlier is not None:
        raise Conflict(f"{file_name} was already imported on {earlier.imported_at:%Y-%m-%d %H:%M} as import "
                       f"#{earlier.pk} ({earlier.file_name}); nothing was imported again.", code="duplicate_file")
    statements = parse_statement(data, format=format, csv_mapping=csv_mapping)
    accounts = {account.account_number: account for account in BankAccount.objects.filter(is_active=True)}
    run = StatementImport.objects.create(file_name=file_name[:255], format=statements[0].format if statements else
                                         (format or "csv"), sha256=digest, imported_by=by)
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
    if auto_match and recorded:
        from .matching import receipts_auto_match

        run.auto_applied = receipts_auto_match(receipt_ids=[r.pk for r in recorded]).applied
    run.save(update_fields=["statements", "receipts_created", "duplicates_skipped", "debits_skipped", "auto_applied"])
    return run
