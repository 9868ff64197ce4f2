"""Structured fields inside free-text bank narratives (MT940 ``:86:``, BAI2 16/88 text).

Banks put the payer, the payer's account, the end-to-end id and the remittance into the narrative in
a few conventions, which this module reads without a database:

- SWIFT / ISO subfield style (MT940 ``:86:`` of most European banks, also seen in BAI2 text):
  ``/ORDP//NAME/ACME LTD/ADDR/...``, ``/ORDP/ACME LTD``, ``/REMI/USTD//INV 123/``, ``/EREF/E2E1``,
  ``/IBAN/DE..``, ``/BIC/..``, ``/NAME/..`` (the counterparty where no ``/ORDP/`` precedes it),
  ``/BENM/`` (the beneficiary: us, ignored), ``/ULTD/`` (ultimate debtor).
- US wire tags (Fedwire/CHIPS text in BAI2): ``ORG=``/``B/O:`` originator, ``OBI=`` originator to
  beneficiary information, ``RFB=`` reference for beneficiary, ``REF=``, ``BNF=`` (us),
  ``ORIG CO NAME:`` (ACH), ``IND NAME:``.
- The German ``?xx`` subfields and SEPA keywords (``EREF+``, ``SVWZ+``, ``ABWA+``) are read in
  ``mt940_format``; this module only reads the two styles above.

``Narrative`` carries what was found; fields not present stay empty, and ``remittance`` is the text a
person (and the matcher) reads: the remittance values without their tags, so that ``OBI=INV-1`` does
not glue the tag to the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import normalise_text

SWIFT_CODES = (
    "TRTP", "IBAN", "BIC", "NAME", "ADDR", "REMI", "EREF", "ORDP", "BENM", "ULTD", "ULTC", "ULTB", "MARF", "CSID",
    "RTRN", "PURP", "CDTRREF", "CDTRREFTP", "CODE", "ISSR", "PREF", "BUSP", "ACCW", "OCMT", "CHGS", "EXCH", "SVCL",
    "CNTP", "ID", "KREF", "MREF", "PAYER", "PAYEE",
)
_SWIFT = re.compile(r"/(" + "|".join(sorted(SWIFT_CODES, key=len, reverse=True)) + r")/")
# a narrative in the subfield style starts with a code, or holds at least two of them
_SWIFT_START = re.compile(r"^\s*/(" + "|".join(SWIFT_CODES) + r")/")

# US wire and ACH tags: label, then the value up to the next label
_US_LABELS = (
    "ORIG CO NAME", "ORIG ID", "DESC DATE", "CO ENTRY DESCR", "SEC", "IND ID", "IND NAME", "TRN", "SNDR REF",
    "ORG", "B/O", "BY ORDER OF", "OBI", "RFB", "REF", "BNF", "BBI", "BNF BK", "ORIGINATOR", "ORGBNK", "RMR",
    "NTE", "FED REF", "IMAD", "OMAD", "PAYMENT DETAILS", "CUST REF", "INV#", "INV NO", "REMIT",
)
_US_TAG = re.compile(
    r"(?<![A-Z0-9])(" + "|".join(re.escape(label) for label in sorted(_US_LABELS, key=len, reverse=True))
    + r")\s*[:=]\s*|(?<![A-Z0-9])(RMR)\*(?:IV|PO|OI|TN|ER|CR)?\*?"
)
_US_PAYER = ("ORIG CO NAME", "ORG", "B/O", "BY ORDER OF", "ORIGINATOR", "IND NAME")
_US_REMIT = ("OBI", "RFB", "REF", "RMR", "NTE", "PAYMENT DETAILS", "CUST REF", "INV#", "INV NO", "REMIT")
_US_DROP = ("BNF", "BBI", "BNF BK", "ORGBNK", "CO ENTRY DESCR")  # about us and the banks: the value is dropped
_US_CODE = ("ORIG ID", "DESC DATE", "SEC", "IND ID", "TRN", "SNDR REF", "FED REF", "IMAD", "OMAD")  # a one-word code: dropped, what follows it is text
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# words that say what a line is, so it is not a name
_NOT_NAME = {
    "WIRE", "TRANSFER", "DEPOSIT", "CREDIT", "DEBIT", "FEE", "FEES", "LOCKBOX", "ACH", "FEDWIRE", "CHIPS", "RETURN",
    "RETURNED", "CHECK", "CHEQUE", "INCOMING", "OUTGOING", "SWEEP", "INTEREST", "CHARGE", "CHARGES", "BOOK",
    "REMITTANCE", "NONREF", "NOTPROVIDED", "SEPA", "GUTSCHRIFT", "UEBERWEISUNG", "INTERNAL", "SERVICE", "REVERSAL",
    "DETAILS", "PAYMENT", "PMT", "INVOICE", "INV", "ITEM", "ITEMS", "CORRESPONDENT", "SETTLEMENT",
}


@dataclass(frozen=True)
class Narrative:
    payer_name: str = ""
    payer_account: str = ""
    end_to_end_id: str = ""
    remittance: str = ""
    ultimate_payer: str = ""


def _clean_value(value: str) -> str:
    text = value.strip().strip("/").strip()
    for lead in ("USTD//", "USTD/", "STRD/CUR/", "STRD/ISO/", "STRD//", "STRD/"):
        if text.upper().startswith(lead):
            text = text[len(lead):]
    return normalise_text(text.replace("//", " "))


def is_swift_style(text: str) -> bool:
    return bool(_SWIFT_START.match(text)) or len(_SWIFT.findall(text)) >= 2


def parse_swift(text: str) -> Narrative:
    """``/CODE/value`` subfields; NAME/IBAN/BIC/ACCW belong to the party code before them (``/ORDP/``,
    ``/BENM/``, ``/ULTD/``) or, with none before them, to the counterparty: the payer of a credit."""
    marks = list(_SWIFT.finditer(text))
    party = "counterparty"
    found: dict[tuple[str, str], list[str]] = {}
    remittance: list[str] = []
    end_to_end = ""
    for index, mark in enumerate(marks):
        code = mark.group(1)
        value = text[mark.end(): marks[index + 1].start() if index + 1 < len(marks) else None]
        if code in ("ORDP", "BENM", "ULTD", "ULTC", "ULTB", "PAYER", "PAYEE"):
            party = {"ORDP": "counterparty", "PAYER": "counterparty", "ULTD": "ultimate"}.get(code, "other")
            if _clean_value(value):
                found.setdefault((party, "NAME"), []).append(_clean_value(value))
            continue
        if code in ("NAME", "ADDR", "IBAN", "BIC", "ACCW", "ID", "CNTP"):
            if _clean_value(value):
                found.setdefault((party, code), []).append(_clean_value(value))
            continue
        if code == "REMI":
            remittance.append(_clean_value(value))
        elif code in ("EREF", "CDTRREF", "MARF", "PREF", "KREF"):
            cleaned = _clean_value(value)
            if code == "EREF":
                end_to_end = "" if cleaned.upper() == "NOTPROVIDED" else cleaned
            elif code == "CDTRREF" and cleaned:
                remittance.append(cleaned)
        elif code == "RTRN" and _clean_value(value):
            remittance.append(f"Return {_clean_value(value)}")
    before = text[: marks[0].start()] if marks else text
    if normalise_text(before):
        remittance.insert(0, normalise_text(before))
    name = " ".join(found.get(("counterparty", "NAME"), [])[:1])
    account = (found.get(("counterparty", "IBAN")) or found.get(("counterparty", "ACCW")) or [""])[0]
    ultimate = " ".join(found.get(("ultimate", "NAME"), [])[:1])
    return Narrative(payer_name=name, payer_account="".join(account.split()), end_to_end_id=end_to_end,
                     remittance=normalise_text(*remittance), ultimate_payer=ultimate)


# the bank's words before a name on a line of its own ("PAYMENT FROM ACME LTD"): the rest is judged
_NAME_LEAD = re.compile(r"^(?:PAYMENT|PAYMT|PYMT|PMT|TRANSFER|TRF|WIRE|REMITTANCE|FUNDS)\s+(?:FROM|BY)\s+|^B/O\s+",
                        re.IGNORECASE)


def _looks_like_name(segment: str) -> bool:
    segment = _NAME_LEAD.sub("", segment.strip())
    words = segment.upper().replace(",", " ").split()
    if not words or any(ch.isdigit() for ch in segment) or "=" in segment or ":" in segment:
        return False
    if any(word.strip(".") in _NOT_NAME for word in words):
        return False
    letters = sum(ch.isalpha() for ch in segment)
    return letters >= 3 and letters >= 0.7 * len(segment.replace(" ", ""))


def _strip_all(text: str, pieces: list[str]) -> str:
    for piece in pieces:
        if piece:
            text = text.replace(piece, " ")
    return normalise_text(text)


_FEDWIRE_LINE = re.compile(r"(?:^|\s|/)([1-3])/")


def _fedwire_name(value: str) -> str:
    """``1/NAME 2/ADDRESS 3/CITY`` (the structured Fedwire originator): the name; else the value."""
    marks = list(_FEDWIRE_LINE.finditer(value))
    if marks and marks[0].group(1) == "1" and marks[0].start() <= 1:
        end = marks[1].start() if len(marks) > 1 else None
        return normalise_text(value[marks[0].end(): end].strip("/"))
    return value


def parse_us_text(segments: list[str]) -> Narrative:
    """BAI2 16/88 text: labelled wire/ACH fields, and an unlabelled originator name on a line of its
    own (the first line of only letters that is not a bank phrase). ``segments`` are the physical
    text pieces (the 16 record's text, then each 88), each already without the trailing ``/``."""
    text = normalise_text(*segments)
    marks = list(_US_TAG.finditer(text.upper()))
    payer, remit, email = "", [], ""
    if marks:
        lead = text[: marks[0].start()]
        if normalise_text(lead):
            remit.append(normalise_text(lead))
        for index, mark in enumerate(marks):
            label = mark.group(1) or mark.group(2)
            value = normalise_text(text[mark.end(): marks[index + 1].start() if index + 1 < len(marks) else None])
            if label in _US_CODE:
                value = value.partition(" ")[2]
            if label == "RMR":
                value = value.split("*")[0]  # RMR*IV*<invoice>*PI*<amount>: the invoice
            if label in _US_PAYER and not payer and value:
                payer = _fedwire_name(value)
            elif label not in _US_DROP and label not in _US_PAYER and value:
                remit.append(value)
    else:
        remit.append(text)
    if not payer:
        for position, segment in enumerate(segments):
            piece = normalise_text(segment)
            if _looks_like_name(piece) and not _US_TAG.search(piece.upper()):
                payer = piece
                # the lines after an unlabelled name, up to the first tagged one, are its address
                drop = [piece]
                for after in segments[position + 1:]:
                    if _US_TAG.search(after.upper()):
                        break
                    drop.append(normalise_text(after))
                if len(drop) > 1 and position + len(drop) >= len(segments):
                    drop = [piece]  # nothing tagged follows: the lines are the remittance
                remit = [normalise_text(*(r.replace(d, " ") if d else r for d in drop)) if any(d and d in r for d in drop)
                         else r for r in remit]
                remit = [_strip_all(r, drop) for r in remit]
                break
    if (match := _EMAIL.search(text)) and match.group(0) not in " ".join(remit):
        email = match.group(0)
    return Narrative(payer_name=payer, remittance=normalise_text(*remit, email))


__all__ = ["Narrative", "is_swift_style", "parse_swift", "parse_us_text"]
