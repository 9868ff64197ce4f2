"""Document integrity: stored PDFs are served only when their bytes still match the SHA-256
stored at issue, and every issued document agrees with its ledger posting.

- `verified_pdf(...)` reads a stored PDF and checks its SHA-256. A mismatch, a missing hash or a
  missing file is an incident: it is logged as an error on the `otc.documents` logger (the
  document, the expected and the found hash) and `DocumentIntegrityError` is raised; the caller
  answers 500 (a download) or records a failed delivery (an e-mail) and never hands the bytes out.
- `pdf_problems()` and `posting_problems()` are what `manage.py documents_check` reports: every
  stored PDF (and VOID copy) against its hash, every issued invoice and credit note against its
  journal entry (total, tax, customer, currency, AR / revenue / tax accounts, legal entity).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from billing.models import CreditNote, Invoice
from ledger.models import Account, JournalEntry, JournalLine
from otc.money import ZERO, money_text

logger = logging.getLogger("otc.documents")


class DocumentIntegrityError(Exception):
    """Stored document bytes no longer match their SHA-256 (or are gone): an incident. Not a
    DomainError on purpose: no view turns it into a friendly 400, it is a 500 and an alert."""


def _label(document: Any) -> str:
    kind = "invoice" if isinstance(document, Invoice) else "credit note"
    return f"{kind} {document.number or '#' + str(document.pk)} (id {document.pk})"


def verified_pdf(document: Invoice | CreditNote, *, file_field: str = "pdf", sha_field: str = "pdf_sha256") -> bytes:
    """The stored bytes of `document`'s PDF (or its VOID copy), checked against the stored SHA-256."""
    stored, expected = getattr(document, file_field), getattr(document, sha_field)
    what = "VOID copy" if file_field == "void_pdf" else "PDF"
    try:
        with stored.open("rb") as handle:
            content = handle.read()
    except (OSError, ValueError) as exc:  # missing file, no file name
        logger.error("DOCUMENT INTEGRITY ALERT: the stored %s of %s cannot be read (%s); not served.",
                     what, _label(document), exc, extra={"document": _label(document), "sha256_expected": expected})
        raise DocumentIntegrityError(f"The stored {what} of {_label(document)} cannot be read.") from exc
    found = hashlib.sha256(content).hexdigest()
    if not expected or found != expected:
        logger.error("DOCUMENT INTEGRITY ALERT: the stored %s of %s has SHA-256 %s, expected %s; not served.",
                     what, _label(document), found, expected or "(none stored)",
                     extra={"document": _label(document), "sha256_expected": expected, "sha256_found": found})
        raise DocumentIntegrityError(f"The stored {what} of {_label(document)} does not match its SHA-256.")
    return content


# --- the documents check -------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    document: str
    message: str


def _stored_files(document: Any) -> Iterator[tuple[str, str]]:
    yield "pdf", "pdf_sha256"
    if isinstance(document, Invoice):
        yield "void_pdf", "void_pdf_sha256"


def pdf_problems(*, legal_entity_id: int | None = None) -> Iterator[Problem]:
    """Every stored PDF and VOID copy whose bytes do not match their SHA-256 (or are missing)."""
    querysets = (Invoice.objects.exclude(status=Invoice.Status.DRAFT),
                 CreditNote.objects.filter(status=CreditNote.Status.ISSUED))
    for rows in querysets:
        if legal_entity_id:
            rows = rows.filter(legal_entity_id=legal_entity_id)
        for document in rows.order_by("pk").iterator(chunk_size=500):
            for file_field, sha_field in _stored_files(document):
                if not getattr(document, file_field) and not getattr(document, sha_field):
                    continue  # not rendered yet (its task is queued); the download renders it
                try:
                    verified_pdf(document, file_field=file_field, sha_field=sha_field)
                except DocumentIntegrityError as exc:
                    yield Problem(_label(document), str(exc))


def _entry_sums(entry_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per journal entry: AR, tax and other (revenue) sums in the document currency, the AR
    customers and currencies, and the legal entity - in two aggregate queries."""
    sums: dict[int, dict[str, Any]] = defaultdict(lambda: {
        "ar": ZERO, "tax": ZERO, "revenue": ZERO, "customers": set(), "currencies": set()})
    rows = (JournalLine.objects.filter(entry_id__in=entry_ids)
            .values("entry_id", "account__role", "customer_id", "currency").annotate(total=Sum("amount")).order_by())
    for row in rows:
        bucket = sums[row["entry_id"]]
        role = row["account__role"]
        key = "ar" if role == Account.Role.AR else "tax" if role == Account.Role.TAX_PAYABLE else "revenue"
        bucket[key] += row["total"] or ZERO
        bucket["currencies"].add(row["currency"])
        if key == "ar":
            bucket["customers"].add(row["customer_id"])
    for entry_id, entity_id in JournalEntry.objects.filter(pk__in=entry_ids).values_list("pk", "legal_entity_id"):
        sums[entry_id]["entity"] = entity_id
    return sums


def _compare(label: str, document: Any, sums: dict[str, Any] | None, sign: Decimal) -> Iterator[Problem]:
    """`sign` +1 for an invoice (AR debited), -1 for a credit note (AR credited)."""
    if sums is None:
        yield Problem(label, "its journal entry has no lines")
        return
    expected = {"ar": sign * document.gross_total, "revenue": -sign * document.net_total,
                "tax": -sign * document.tax_total}
    for key, name in (("ar", "total (AR)"), ("revenue", "net (revenue)"), ("tax", "tax")):
        if sums[key] != expected[key]:
            yield Problem(label, f"{name} {money_text(expected[key], document.currency)} on the document, "
                                 f"{money_text(sums[key], document.currency)} in the posting")
    if sums["customers"] != {document.customer_id}:
        yield Problem(label, f"customer {document.customer_id} on the document, {sorted(map(str, sums['customers']))} "
                             "on the posting's AR lines")
    if sums["currencies"] != {document.currency}:
        yield Problem(label, f"currency {document.currency} on the document, {sorted(sums['currencies'])} in the posting")
    if sums.get("entity") != document.legal_entity_id:
        yield Problem(label, "the posting belongs to another legal entity")


def posting_problems(*, legal_entity_id: int | None = None, chunk: int = 1000) -> Iterator[Problem]:
    """Every issued invoice and credit note whose posting disagrees with it (rules above); a
    non-zero document without a posting, or a void without its cancelling entry or note."""
    invoices = Invoice.objects.exclude(status=Invoice.Status.DRAFT)
    notes = CreditNote.objects.filter(status=CreditNote.Status.ISSUED)
    if legal_entity_id:
        invoices, notes = invoices.filter(legal_entity_id=legal_entity_id), notes.filter(legal_entity_id=legal_entity_id)
    for queryset, sign in ((invoices, Decimal(1)), (notes, Decimal(-1))):
        batch: list[Any] = []
        for document in queryset.order_by("pk").iterator(chunk_size=chunk):
            batch.append(document)
            if len(batch) == chunk:
                yield from _check_batch(batch, sign)
                batch = []
        yield from _check_batch(batch, sign)


def _check_batch(batch: list[Any], sign: Decimal) -> Iterator[Problem]:
    if not batch:
        return
    sums = _entry_sums([d.journal_entry_id for d in batch if d.journal_entry_id])
    for document in batch:
        label = _label(document)
        if not document.journal_entry_id:
            if document.gross_total != 0:
                yield Problem(label, f"total {money_text(document.gross_total, document.currency)} but no journal entry")
            continue
        yield from _compare(label, document, sums.get(document.journal_entry_id), sign)
        if (isinstance(document, Invoice) and document.status == Invoice.Status.VOID
                and not document.void_entry_id and not document.void_credit_note_id):
            yield Problem(label, "void, but neither a reversal nor a cancelling credit note is recorded")
