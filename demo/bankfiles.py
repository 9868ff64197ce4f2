"""Small writers of bank statement files for the demo (and for tests): BAI2, ISO 20022
camt.053.001.08 / camt.054.001.08, SWIFT MT940 and a CSV export, each producing the bytes a bank
would send for one account from a list of transactions. They follow the layouts that
receivables.parsers reads (docs/bank-formats.md): control totals, record counts and balances add up,
so a written file parses back to exactly the transactions written (tests/demo/test_bankfiles.py).

What each format carries (the rest of a `BankLine` is not written):
- BAI2: amount, value date (funds type V), bank reference; the payer and the remittance go into
  the 16 record's text as ``ORG=<payer> OBI=<remittance>`` (a wire), continued on 88 records.
- camt.053 / camt.054: everything; the remittance is ``Ustrd`` (split at 140 characters), or
  ``Strd/CdtrRefInf/Ref`` for a structured reference (``structured=True``, at most 35 characters).
- MT940: everything, in the German structured ``:86:`` (``?20``-``?29`` purpose, ``?31`` account,
  ``?32``/``?33`` name: a name is cut at 54 characters, the purpose at 270, as banks do).
- CSV: everything (`CSV_LAYOUT`, read back with `csv_mapping`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from otc.money import minor_units
from receivables.parsers import CsvMapping


@dataclass(frozen=True)
class BankLine:
    """One transaction on a statement: + money in, - money out."""

    value_date: dt.date
    amount: Decimal
    currency: str
    payer_name: str = ""
    payer_account: str = ""
    remittance: str = ""
    bank_reference: str = ""
    structured: bool = False  # camt: the remittance is a structured creditor reference
    end_to_end_id: str = ""
    # how the bank writes the narrative (docs/bank-formats.md, "As banks write them"); "" is the default:
    # MT940 "swift" (/ORDP//NAME/../REMI/USTD//..), "ordp" (/ORDP/<name>/REMI/..);
    # BAI2 "unlabelled" (the name on its own 88, then an address), "fedwire" (B/O: 1/<name>/2/..),
    # "ach" (ORIG CO NAME: cut at 16, RMR*IV*), "wrapped" (records filled to 80 and continued mid-word);
    # camt "documents" (RfrdDocInf/Nb per number), "e2e" (the reference only in EndToEndId),
    # "ultimate" (the payer only as UltmtDbtr)
    style: str = ""


@dataclass
class BankStatementFile:
    """One statement of one account for one booking day (`day`), opening at `opening_balance`."""

    account_number: str
    currency: str
    day: dt.date
    statement_id: str
    opening_balance: Decimal
    lines: list[BankLine] = field(default_factory=list)
    bank_id: str = "OTCBANK"  # BIC or routing number of the bank sending the file
    sequence: int = 1

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + sum((line.amount for line in self.lines), Decimal(0))


def _words(text: str) -> str:
    return " ".join(text.split())


def _minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)).to_integral_exact())


def _plain(amount: Decimal, currency: str) -> str:
    return f"{abs(amount):.{minor_units(currency)}f}"


def _wrap(text: str, width: int) -> list[str]:
    """Split at spaces into pieces of at most `width` (a longer word is cut)."""
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > width:
            pieces.append(current)
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


# --- BAI2 ------------------------------------------------------------------------------------------

BAI2_CREDIT, BAI2_RETURN = "195", "555"  # incoming money transfer; deposited item returned


def bai2_remittance(line: BankLine) -> str:
    """What the parser gives back as the remittance of a line written by `write_bai2` (the ORG=/OBI=
    tags are read as fields, not kept in the text)."""
    return " ".join(w for w in (word.rstrip("/") for word in line.remittance.split()) if w)


def bai2_text(line: BankLine) -> str:
    """The 16 record's text for a line: ``ORG=<payer> OBI=<remittance>``, as a wire."""
    name = _words(line.payer_name)
    remittance = " ".join(w for w in (word.rstrip("/") for word in line.remittance.split()) if w)  # "/" ends a record
    if name:
        return _words(f"ORG={name} OBI={remittance}") if remittance else f"ORG={name}"
    return remittance


def _bai2_detail(head: str, line: BankLine) -> list[str]:
    """The 16 record and its 88 continuations in the line's style."""
    name, remittance = _words(line.payer_name), bai2_remittance(line)
    if line.style == "unlabelled" and name:
        return [head + "/", f"88,{name}", "88,100 MAIN STREET SUITE 4 SPRINGFIELD IL 62701",
                *([f"88,OBI={remittance}"] if remittance else [])]
    if line.style == "fedwire" and name:
        return [head + f"B/O: 1/{name}/2/SPRINGFIELD IL US", *([f"88,OBI: {remittance}"] if remittance else [])]
    if line.style == "ach" and name:
        rmr = f"RMR*IV*{remittance.replace('*', ' ')}*PI*{line.amount:.2f}\\" if remittance else ""
        return [head + f"ORIG CO NAME:{name[:16]} ORIG ID:1{zlib.crc32(name.encode()) % 10 ** 9:09d} DESC DATE:"
                f"{line.value_date:%y%m%d}", "88,CO ENTRY DESCR:PAYMENT SEC:CCD", *([f"88,{rmr}"] if rmr else [])]
    if line.style == "wrapped":
        text = head + bai2_text(line)
        records = [text[:80]]
        rest = text[80:]
        while rest:
            records.append("88," + rest[:77])
            rest = rest[77:]
        return records
    text = _wrap(bai2_text(line), 70) or [""]
    return [head + text[0], *(f"88,{piece}" for piece in text[1:])]


def write_bai2(statement: BankStatementFile, *, created: dt.datetime | None = None, receiver: str = "OTC") -> bytes:
    """One file, one group, one account: 01/02/03/16/88/49/98/99, amounts in minor units, the 49,
    98 and 99 control totals and record counts computed as the parser checks them."""
    s, ccy = statement, statement.currency
    created = created or dt.datetime.combine(s.day, dt.time(6, 0))
    opening, closing = _minor(s.opening_balance, ccy), _minor(s.closing_balance, ccy)
    account = [f"03,{s.account_number},{ccy},010,{opening},,,015,{closing},,/"]
    control = opening + closing
    for line in s.lines:
        units = abs(_minor(line.amount, ccy))
        control += units
        code = BAI2_CREDIT if line.amount > 0 else BAI2_RETURN
        if "," in line.bank_reference or "/" in line.bank_reference:
            raise ValueError(f"A BAI2 bank reference cannot hold ',' or '/': {line.bank_reference!r}")
        head = f"16,{code},{units},V,{line.value_date:%y%m%d},0000,{line.bank_reference},,"
        account += _bai2_detail(head, line)
    account.append(f"49,{control},{len(account) + 1}/")
    group = [f"02,{receiver},{s.bank_id},1,{s.day:%y%m%d},{created:%H%M},{ccy},2/", *account]
    group.append(f"98,{control},1,{len(group) + 1}/")
    records = [f"01,{s.bank_id},{receiver},{created:%y%m%d},{created:%H%M},{s.statement_id},80,,2/", *group]
    records.append(f"99,{control},1,{len(records) + 1}/")
    return ("\n".join(records) + "\n").encode("utf-8")


# --- camt.053 / camt.054 ---------------------------------------------------------------------------

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:{kind}.001.08"


def _balance_xml(code: str, amount: Decimal, currency: str, day: dt.date) -> str:
    side = "CRDT" if amount >= 0 else "DBIT"
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{_plain(amount, currency)}"
            f"</Amt><CdtDbtInd>{side}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")


def _entry_xml(line: BankLine, day: dt.date) -> str:
    ccy, credit = line.currency, line.amount > 0
    side = "CRDT" if credit else "DBIT"
    role = "Dbtr" if credit else "Cdtr"
    domain_family, sub_family = "RCDT", "ESCT" if credit else "RRTN"  # received transfer; its return
    parties = ""
    if line.payer_name or line.payer_account:
        name = f"<{role}><Pty><Nm>{escape(_words(line.payer_name)[:140])}</Nm></Pty></{role}>" if line.payer_name else ""
        if line.style == "ultimate" and line.payer_name:
            name = f"<Ultmt{role}><Pty><Nm>{escape(_words(line.payer_name)[:140])}</Nm></Pty></Ultmt{role}>"
        account = (f"<{role}Acct><Id><IBAN>{escape(line.payer_account)}</IBAN></Id></{role}Acct>"
                   if line.payer_account else "")
        parties = f"<RltdPties>{name}{account}</RltdPties>"
    remittance = _words(line.remittance)
    end_to_end = escape(line.end_to_end_id) or "NOTPROVIDED"
    if line.style == "e2e" and remittance:
        end_to_end, remittance = escape(remittance[:35]), ""
    if remittance and line.style == "documents":
        numbers = remittance.split()
        info = "<RmtInf>" + "".join(
            f"<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>{escape(number[:35])}</Nb>"
            f"</RfrdDocInf></Strd>" for number in numbers) + "</RmtInf>"
    elif remittance and line.structured:
        if len(remittance) > 35:
            raise ValueError(f"A structured creditor reference has at most 35 characters: {remittance!r}")
        info = (f"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{escape(remittance)}"
                f"</Ref></CdtrRefInf></Strd></RmtInf>")
    elif remittance:
        info = "<RmtInf>" + "".join(f"<Ustrd>{escape(piece)}</Ustrd>" for piece in _wrap(remittance, 140)) + "</RmtInf>"
    else:
        info = ""
    return (
        f"<Ntry><Amt Ccy=\"{ccy}\">{_plain(line.amount, ccy)}</Amt><CdtDbtInd>{side}</CdtDbtInd>"
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{line.value_date.isoformat()}</Dt></ValDt>"
        f"<AcctSvcrRef>{escape(line.bank_reference)}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{domain_family}</Cd><SubFmlyCd>{sub_family}</SubFmlyCd></Fmly></Domn>"
        f"</BkTxCd><NtryDtls><TxDtls><Refs><AcctSvcrRef>{escape(line.bank_reference)}</AcctSvcrRef>"
        f"<EndToEndId>{end_to_end}</EndToEndId></Refs>"
        f"<Amt Ccy=\"{ccy}\">{_plain(line.amount, ccy)}</Amt><CdtDbtInd>{side}</CdtDbtInd>"
        f"{parties}{info}</TxDtls></NtryDtls></Ntry>"
    )


def write_camt(statement: BankStatementFile, *, kind: str = "camt.053", created: dt.datetime | None = None,
               bic: str = "") -> bytes:
    """A camt.053.001.08 statement (balances OPBD/CLBD, a transaction summary, booked entries), or
    with kind="camt.054" a notification of the same entries (no balances)."""
    if kind not in ("camt.053", "camt.054"):
        raise ValueError(f"Unknown camt kind {kind!r}.")
    s, ccy = statement, statement.currency
    created = created or dt.datetime.combine(s.day, dt.time(18, 0))
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S")
    message, item = ("BkToCstmrStmt", "Stmt") if kind == "camt.053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    servicer = f"<Svcr><FinInstnId><BICFI>{escape(bic)}</BICFI></FinInstnId></Svcr>" if bic else ""
    body = [f"<Id>{escape(s.statement_id)}</Id><ElctrncSeqNb>{s.sequence}</ElctrncSeqNb><CreDtTm>{stamp}</CreDtTm>",
            f"<Acct><Id><IBAN>{escape(s.account_number)}</IBAN></Id><Ccy>{ccy}</Ccy>{servicer}</Acct>"]
    if kind == "camt.053":
        body.append(_balance_xml("OPBD", s.opening_balance, ccy, s.day - dt.timedelta(days=1)))
        body.append(_balance_xml("CLBD", s.closing_balance, ccy, s.day))
        credits = [line for line in s.lines if line.amount > 0]
        debits = [line for line in s.lines if line.amount <= 0]

        def total(lines: list[BankLine]) -> str:
            return _plain(sum((abs(line.amount) for line in lines), Decimal(0)), ccy)

        body.append(f"<TxsSummry><TtlNtries><NbOfNtries>{len(s.lines)}</NbOfNtries><Sum>{total(s.lines)}</Sum>"
                    f"</TtlNtries><TtlCdtNtries><NbOfNtries>{len(credits)}</NbOfNtries><Sum>{total(credits)}</Sum>"
                    f"</TtlCdtNtries><TtlDbtNtries><NbOfNtries>{len(debits)}</NbOfNtries><Sum>{total(debits)}</Sum>"
                    f"</TtlDbtNtries></TxsSummry>")
    body += [_entry_xml(line, s.day) for line in s.lines]
    xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{CAMT_NS.format(kind=kind)}\">"
           f"<{message}><GrpHdr><MsgId>{escape(s.statement_id)}</MsgId><CreDtTm>{stamp}</CreDtTm></GrpHdr>"
           f"<{item}>{''.join(body)}</{item}></{message}></Document>\n")
    return xml.encode("utf-8")


# --- MT940 -----------------------------------------------------------------------------------------

MT940_WIDTH = 65


def _mt940_amount(amount: Decimal, currency: str) -> str:
    return _plain(amount, currency).replace(".", ",") if minor_units(currency) else f"{abs(amount):.0f},"


def _mt940_balance(tag: str, amount: Decimal, currency: str, day: dt.date) -> str:
    return f":{tag}:{'C' if amount >= 0 else 'D'}{day:%y%m%d}{currency}{_mt940_amount(amount, currency)}"


def _chunks(text: str, size: int, count: int) -> list[str]:
    """`text` in at most `count` pieces of at most `size` characters, none ending with a space (the
    parser joins the pieces as they are, and a line's trailing space does not survive)."""
    pieces: list[str] = []
    rest = text
    while rest and len(pieces) < count:
        piece = rest[:size]
        kept = piece.rstrip(" ")
        if not kept:
            break
        pieces.append(kept)
        rest = rest[len(kept):]
    return pieces


def _subfield_lines(head: str, subfields: list[tuple[str, str]]) -> list[str]:
    """`head` and ?NN subfields packed into lines of at most 65 characters, breaking only before a ?."""
    lines = [head]
    for number, value in subfields:
        part = f"?{number}{value}"
        if len(lines[-1]) + len(part) <= MT940_WIDTH:
            lines[-1] += part
        else:
            lines.append(part)
    return lines


def mt940_purpose(line: BankLine) -> str:
    """The remittance as the :86: purpose carries it (no '?', at most 270 characters)."""
    return "".join(_chunks(_words(line.remittance.replace("?", " ")), 27, 10))


def mt940_name(line: BankLine) -> str:
    return " ".join("".join(_chunks(_words(line.payer_name.replace("?", " ")), 27, 2)).split())


def _swift_narrative(line: BankLine) -> list[str]:
    """:86: in the SWIFT subfield style, filled to 65 characters a line (61 after the tag) and cut
    mid-word, as ING or ABN AMRO write it."""
    name, remittance = _words(line.payer_name)[:70], _words(line.remittance.replace("/", " "))
    if line.style == "ordp":
        text = f"/ORDP/{name}/REMI/{remittance}" if name else f"/REMI/{remittance}"
    else:
        text = "/TRTP/SEPA CREDIT TRANSFER"
        if name:
            text += f"/ORDP//NAME/{name}"
        if line.payer_account:
            text += f"/IBAN/{line.payer_account}"
        text += f"/REMI/USTD//{remittance}/EREF/{line.end_to_end_id or 'NOTPROVIDED'}"
    pieces = [text[:61]]
    rest = text[61:]
    while rest and len(pieces) < 6:
        pieces.append(rest[:65])
        rest = rest[65:]
    return [f":86:{pieces[0]}", *pieces[1:]]


def write_mt940(statement: BankStatementFile) -> bytes:
    """:20:, :25: (the IBAN), :28C:, :60F:, per line a :61: (value date, entry date, C/D, amount
    with a decimal comma, N-code, NONREF//bank reference) and a structured :86:, then :62F:."""
    s, ccy = statement, statement.currency
    out = [f":20:{s.statement_id[:16]}", f":25:{s.account_number}", f":28C:{s.sequence:05d}/001",
           _mt940_balance("60F", s.opening_balance, ccy, s.day - dt.timedelta(days=1))]
    for line in s.lines:
        credit = line.amount > 0
        if len(line.bank_reference) > 16 or "/" in line.bank_reference:
            raise ValueError(f"An MT940 bank reference has at most 16 characters and no '/': {line.bank_reference!r}")
        code = "NTRF" if credit else "NRTI"
        reference = (line.end_to_end_id or "NONREF")[:16]
        out.append(f":61:{line.value_date:%y%m%d}{s.day:%m%d}{'C' if credit else 'D'}"
                   f"{_mt940_amount(line.amount, ccy)}{code}{reference}//{line.bank_reference}")
        if line.style in ("swift", "ordp"):
            out += _swift_narrative(line)
            continue
        subfields = [("00", "GUTSCHRIFT UEBERWEISUNG" if credit else "RUECKUEBERWEISUNG"), ("10", "9310")]
        purpose = _chunks(_words(line.remittance.replace("?", " ")), 27, 10)
        subfields += [(f"{20 + index}", piece) for index, piece in enumerate(purpose)]
        if line.payer_account:
            subfields.append(("31", line.payer_account))
        name = _chunks(_words(line.payer_name.replace("?", " ")), 27, 2)
        subfields += [(f"{32 + index}", piece) for index, piece in enumerate(name)]
        lines = _subfield_lines("166" if credit else "159", subfields)
        out.append(f":86:{lines[0]}")
        out += lines[1:]
    out.append(_mt940_balance("62F", s.closing_balance, ccy, s.day))
    return ("\r\n".join(out) + "\r\n-\r\n").encode("utf-8")


# --- CSV -------------------------------------------------------------------------------------------

CSV_LAYOUT = ("Posting Date", "Value Date", "Amount", "Currency", "Counterparty", "Counterparty Account",
              "Reference", "Transaction ID")


def csv_mapping(account_number: str) -> CsvMapping:
    """How the demo's CSV export is read (a UK bank's online-banking export: dd/mm/yyyy, signed)."""
    return CsvMapping(date="Posting Date", value_date="Value Date", amount="Amount", currency="Currency",
                      payer_name="Counterparty", payer_account="Counterparty Account", remittance="Reference",
                      bank_reference="Transaction ID", date_format="%d/%m/%Y", account_number=account_number)


CSV_SHORT_LAYOUT = ("Date", "Amount", "Currency", "Name", "Details")


def csv_short_mapping(account_number: str) -> CsvMapping:
    """A bank CSV without a payer-account column or a transaction id (only date and amount are needed)."""
    return CsvMapping(date="Date", amount="Amount", currency="Currency", payer_name="Name", remittance="Details",
                      date_format="%d.%m.%Y", account_number=account_number)


def write_csv_short(statement: BankStatementFile) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_SHORT_LAYOUT)
    for line in statement.lines:
        writer.writerow([f"{line.value_date:%d.%m.%Y}", f"{line.amount:.{minor_units(line.currency)}f}",
                         line.currency, _words(line.payer_name), _words(line.remittance)])
    return buffer.getvalue().encode("utf-8")


def write_csv(statement: BankStatementFile) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_LAYOUT)
    for line in statement.lines:
        writer.writerow([f"{statement.day:%d/%m/%Y}", f"{line.value_date:%d/%m/%Y}",
                         f"{line.amount:.{minor_units(line.currency)}f}", line.currency, _words(line.payer_name),
                         line.payer_account, _words(line.remittance), line.bank_reference])
    return buffer.getvalue().encode("utf-8")


WRITERS = {"bai2": write_bai2, "camt053": write_camt, "camt054": lambda s: write_camt(s, kind="camt.054"),
           "mt940": write_mt940, "csv": write_csv}


def write_statement(fmt: str, statement: BankStatementFile) -> bytes:
    return WRITERS[fmt](statement)
