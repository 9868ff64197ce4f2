"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), any .001.NN version.

Parsed with defusedxml's ElementTree (no DTDs, no entity expansion, no network). Elements are found
in the document's own namespace, so camt.053.001.02 and .001.08 (where TxDtls/Amt replaced
AmtDtls/TxAmt/Amt and RltdPties/Dbtr gained a Pty wrapper) are read by the same code. Only booked
entries (Sts BOOK) become transactions. A batch entry with several TxDtls yields one transaction per
TxDtls, whose amounts must add up to the entry's.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .base import (
    ParsedStatement,
    ParsedTransaction,
    ReferenceHasher,
    check_currency,
    check_places,
    fail,
    normalise_text,
)

NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.(\d\d)\}Document$")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)


class _Doc:
    def __init__(self, ns: str) -> None:
        self.ns = ns

    def path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{step}" if step not in (".", "..", "*") else step for step in path.split("/"))

    def find(self, element: Element | None, path: str) -> Element | None:
        return None if element is None else element.find(self.path(path))

    def findall(self, element: Element, path: str) -> list[Element]:
        return element.findall(self.path(path))

    def text(self, element: Element | None, path: str) -> str:
        found = self.find(element, path)
        return (found.text or "").strip() if found is not None else ""

    def texts(self, element: Element, path: str) -> list[str]:
        return [(found.text or "").strip() for found in self.findall(element, path) if (found.text or "").strip()]


def _date(value: str, where: str, what: str) -> date:
    try:
        if "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        return date.fromisoformat(value)
    except ValueError:
        raise fail(where, f"{what} {value!r} is not an ISO date")


def _amount(doc: _Doc, parent: Element, path: str, where: str, *, required: bool = True) -> tuple[Decimal, str] | None:
    element = doc.find(parent, path)
    if element is None:
        if required:
            raise fail(where, f"{path} is missing")
        return None
    raw = (element.text or "").strip()
    currency = check_currency(element.get("Ccy"), f"{where}/{path}")
    if not _DECIMAL.match(raw):
        raise fail(f"{where}/{path}", f"amount {raw!r} is not a number")
    return check_places(Decimal(raw), currency, f"{where}/{path}", raw), currency


def _sign(doc: _Doc, parent: Element, where: str, default: str | None = None) -> int:
    indicator = doc.text(parent, "CdtDbtInd") or default
    if indicator not in ("CRDT", "DBIT"):
        raise fail(f"{where}/CdtDbtInd", f"credit/debit indicator {indicator!r} is not CRDT or DBIT" if indicator
                   else "CdtDbtInd is missing")
    return 1 if indicator == "CRDT" else -1


def _party(doc: _Doc, details: Element | None, role: str) -> tuple[str, str]:
    parties = doc.find(details, "RltdPties")
    if parties is None:
        return "", ""
    name = doc.text(parties, f"{role}/Pty/Nm") or doc.text(parties, f"{role}/Nm")
    account = doc.text(parties, f"{role}Acct/Id/IBAN") or doc.text(parties, f"{role}Acct/Id/Othr/Id")
    if not name:
        name = doc.text(parties, f"Ultmt{role}/Pty/Nm") or doc.text(parties, f"Ultmt{role}/Nm")
    return normalise_text(name), account


def _remittance(doc: _Doc, details: Element | None, entry: Element) -> str:
    parts: list[str] = []
    if details is not None:
        info = doc.find(details, "RmtInf")
        if info is not None:
            for strd in doc.findall(info, "Strd"):
                parts += doc.texts(strd, "RfrdDocInf/Nb")
                parts += doc.texts(strd, "CdtrRefInf/Ref")
                parts += doc.texts(strd, "AddtlRmtInf")
            parts += doc.texts(info, "Ustrd")
        reason = doc.text(details, "RtrInf/Rsn/Cd")
        if reason:
            parts.append(f"Return reason {reason}")
        parts += doc.texts(details, "RtrInf/AddtlInf")
        if not parts:
            parts += doc.texts(details, "AddtlTxInf")
        # where the payer sent its remittance advice: its e-mail domain helps identify it
        for path in ("RltdRmtInf/RmtLctnDtls/ElctrncAdr", "RltdRmtInf/RmtLctnElctrncAdr",
                     "RltdPties/Dbtr/Pty/CtctDtls/EmailAdr", "RltdPties/Dbtr/CtctDtls/EmailAdr"):
            parts += [text for text in doc.texts(details, path) if "@" in text]
    if not parts:
        parts += doc.texts(entry, "AddtlNtryInf")
    return normalise_text(*parts)


def _type_code(doc: _Doc, element: Element | None) -> str:
    code = doc.find(element, "BkTxCd")
    if code is None:
        return ""
    domain = [doc.text(code, "Domn/Cd"), doc.text(code, "Domn/Fmly/Cd"), doc.text(code, "Domn/Fmly/SubFmlyCd")]
    if any(domain):
        return "/".join(domain)
    return doc.text(code, "Prtry/Cd")


def _booked(doc: _Doc, entry: Element) -> bool:
    status = doc.text(entry, "Sts/Cd") or doc.text(entry, "Sts")
    return status in ("", "BOOK")


def _entry(doc: _Doc, entry: Element, where: str, currency: str, hasher: ReferenceHasher) -> list[ParsedTransaction]:
    amount, entry_currency = _amount(doc, entry, "Amt", where)
    if currency and entry_currency != currency:
        raise fail(f"{where}/Amt", f"currency {entry_currency} differs from the account's {currency}")
    sign = _sign(doc, entry, where)
    booking_text = doc.text(entry, "BookgDt/Dt") or doc.text(entry, "BookgDt/DtTm")
    value_text = doc.text(entry, "ValDt/Dt") or doc.text(entry, "ValDt/DtTm")
    if not booking_text and not value_text:
        raise fail(where, "the entry has neither a booking date (BookgDt) nor a value date (ValDt)")
    booking = _date(booking_text, f"{where}/BookgDt", "booking date") if booking_text else None
    value = _date(value_text, f"{where}/ValDt", "value date") if value_text else booking
    assert value is not None
    entry_ref = doc.text(entry, "AcctSvcrRef") or doc.text(entry, "NtryRef")
    entry_code = _type_code(doc, entry)
    details = [tx for batch in doc.findall(entry, "NtryDtls") for tx in doc.findall(batch, "TxDtls")]
    if len(details) <= 1:
        tx = details[0] if details else None
        return [_transaction(doc, entry, tx, where, sign * amount, entry_currency, value, booking,
                             entry_ref, entry_code, hasher)]
    out: list[ParsedTransaction] = []
    total = Decimal(0)
    for index, tx in enumerate(details, start=1):
        tx_where = f"{where}/NtryDtls/TxDtls[{index}]"
        tx_amount = _amount(doc, tx, "Amt", tx_where, required=False) or _amount(
            doc, tx, "AmtDtls/TxAmt/Amt", tx_where, required=False)
        if tx_amount is None:
            raise fail(tx_where, "a batch entry's transaction has no amount (Amt or AmtDtls/TxAmt/Amt)")
        if tx_amount[1] != entry_currency:
            raise fail(tx_where, f"currency {tx_amount[1]} differs from the entry's {entry_currency}")
        signed = _sign(doc, tx, tx_where, default=doc.text(entry, "CdtDbtInd")) * tx_amount[0]
        total += signed
        reference = doc.text(tx, "Refs/AcctSvcrRef") or (f"{entry_ref}/{index}" if entry_ref else "")
        out.append(_transaction(doc, entry, tx, tx_where, signed, entry_currency, value, booking, reference,
                                _type_code(doc, tx) or entry_code, hasher))
    if total != sign * amount:
        raise fail(where, f"the TxDtls amounts add up to {total} but the entry amount is {sign * amount}")
    return out


def _transaction(doc: _Doc, entry: Element, tx: Element | None, where: str, amount: Decimal, currency: str,
                 value: date, booking: date | None, reference: str, type_code: str,
                 hasher: ReferenceHasher) -> ParsedTransaction:
    payer_role, other_role = ("Dbtr", "Cdtr") if amount >= 0 else ("Cdtr", "Dbtr")
    name, account = _party(doc, tx, payer_role)
    if not name and not account:
        name, account = _party(doc, tx, other_role)
    remittance = _remittance(doc, tx, entry)
    end_to_end = doc.text(tx, "Refs/EndToEndId")
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    return ParsedTransaction(
        bank_reference=reference or hasher(value, amount, currency, name, account, remittance, end_to_end),
        value_date=value,
        booking_date=booking,
        amount=amount,
        currency=currency,
        payer_name=name,
        payer_account=account,
        remittance=remittance,
        end_to_end_id=end_to_end,
        type_code=type_code,
        location=where,
    )


def _balance(doc: _Doc, statement: Element, where: str, codes: tuple[str, ...]) -> tuple[Decimal, date | None] | None:
    for index, balance in enumerate(doc.findall(statement, "Bal"), start=1):
        code = doc.text(balance, "Tp/CdOrPrtry/Cd")
        if code in codes:
            bal_where = f"{where}/Bal[{index}]"
            amount, _ = _amount(doc, balance, "Amt", bal_where)
            sign = _sign(doc, balance, bal_where)
            day_text = doc.text(balance, "Dt/Dt") or doc.text(balance, "Dt/DtTm")
            return sign * amount, _date(day_text, f"{bal_where}/Dt", "balance date") if day_text else None
    return None


def _check_summary(doc: _Doc, statement: Element, where: str, entries: list[tuple[int, Decimal]]) -> None:
    summary = doc.find(statement, "TxsSummry")
    if summary is None:
        return
    checks = (("TtlNtries", entries), ("TtlCdtNtries", [e for e in entries if e[0] > 0]),
              ("TtlDbtNtries", [e for e in entries if e[0] < 0]))
    for name, items in checks:
        count = doc.text(summary, f"{name}/NbOfNtries")
        if count and count != str(len(items)):
            raise fail(f"{where}/TxsSummry/{name}", f"NbOfNtries says {count} entries but the statement has {len(items)}")
        total = doc.text(summary, f"{name}/Sum")
        if total and _DECIMAL.match(total) and Decimal(total) != sum((abs(e[1]) for e in items), Decimal(0)):
            raise fail(f"{where}/TxsSummry/{name}",
                       f"Sum says {total} but the entries add up to {sum((abs(e[1]) for e in items), Decimal(0))}")


def parse_camt(data: bytes) -> list[ParsedStatement]:
    try:
        root = fromstring(data)
    except ParseError as exc:
        line, column = exc.position
        raise fail(f"Line {line}, column {column}", f"the XML is not well-formed ({exc})")
    except DefusedXmlException as exc:
        raise fail("", f"the XML uses a forbidden construct (DTD or entities): {exc}")
    match = NAMESPACE.match(root.tag)
    if not match:
        raise fail(root.tag.rpartition("}")[2] or root.tag,
                   f"the XML is not a camt.053 or camt.054 document (root element {root.tag!r})")
    kind = "camt053" if match.group(1) == "camt.053" else "camt054"
    doc = _Doc(root.tag[1:].partition("}")[0])
    message, item = ("BkToCstmrStmt", "Stmt") if kind == "camt053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    body = doc.find(root, message)
    if body is None:
        raise fail("Document", f"{message} is missing")
    created = doc.text(body, "GrpHdr/CreDtTm")
    items = doc.findall(body, item)
    if not items:
        raise fail(message, f"the message holds no {item}")
    statements: list[ParsedStatement] = []
    for index, statement in enumerate(items, start=1):
        where = f"{item}[{index}]"
        account = doc.text(statement, "Acct/Id/IBAN") or doc.text(statement, "Acct/Id/Othr/Id")
        if not account:
            raise fail(f"{where}/Acct", "the account (Acct/Id/IBAN or Acct/Id/Othr/Id) is missing")
        currency = doc.text(statement, "Acct/Ccy")
        if currency:
            currency = check_currency(currency, f"{where}/Acct/Ccy")
        opening = _balance(doc, statement, where, _OPENING)
        closing = _balance(doc, statement, where, _CLOSING)
        hasher = ReferenceHasher(account)
        transactions: list[ParsedTransaction] = []
        entries: list[tuple[int, Decimal]] = []
        for number, entry in enumerate(doc.findall(statement, "Ntry"), start=1):
            entry_where = f"{where}/Ntry[{number}]"
            if not _booked(doc, entry):
                continue
            booked = _entry(doc, entry, entry_where, currency, hasher)
            currency = currency or booked[0].currency
            total = sum((tx.amount for tx in booked), Decimal(0))
            entries.append((1 if doc.text(entry, "CdtDbtInd") == "CRDT" else -1, total))
            transactions += booked
        if not currency:
            first = doc.find(statement, "Bal/Amt")
            currency = check_currency(first.get("Ccy") if first is not None else "", f"{where}/Acct/Ccy")
        if opening and closing:
            moved = sum((amount for _, amount in entries), Decimal(0))
            if opening[0] + moved != closing[0]:
                raise fail(where, f"opening balance {opening[0]} + entries {moved} = {opening[0] + moved}, "
                                  f"but the closing balance (CLBD) is {closing[0]}")
        _check_summary(doc, statement, where, entries)
        day_text = doc.text(statement, "CreDtTm") or created
        if closing and closing[1]:
            statement_date = closing[1]
        elif day_text:
            statement_date = _date(day_text, f"{where}/CreDtTm", "creation date")
        else:
            raise fail(where, "no statement date (CreDtTm or a closing balance date)")
        statements.append(
            ParsedStatement(
                format=kind,
                account_number=account,
                currency=currency,
                statement_id=doc.text(statement, "Id"),
                statement_date=statement_date,
                opening_balance=opening[0] if opening else None,
                closing_balance=closing[0] if closing else None,
                transactions=tuple(transactions),
            )
        )
    return statements
