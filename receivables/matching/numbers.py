"""Invoice numbers: parse ours, extract what payers write, derive one-edit typo candidates.

Our numbers are ``<entity prefix>-<year>-<6-digit sequence>`` (``US01-INV-2026-000123``). Payers
write ``INV-2026-123``, ``US01INV2026000123``, ``2026/000123``, ``Inv 123``, ``000123``, drop or
swap digits. Extraction returns :class:`NumberKey` s a Book can look up by (year, sequence).
"""

from __future__ import annotations

import re

from rapidfuzz.distance import DamerauLevenshtein

from .types import NumberKey

MAX_SEQUENCE = 9_999_999

_OUR_NUMBER = re.compile(r"^(?P<prefix>.*?)[-_ /.]?(?P<year>(?:19|20)\d{2})[-_ /.]?(?P<seq>\d{1,7})$")

# A year 2000-2099 followed by a sequence: "2026-000123", "2026/123", "2026000123".
_YEAR_SEQ = re.compile(r"(?<![0-9])(?P<year>20\d{2})(?P<sep>[-_ /.]?)(?P<seq>\d{1,7})(?![0-9]|[.,]\d)")
_CONTINUED = re.compile(r"\s*(?:/|,|;|&|\+|AND\b|UND\b|ET\b)\s*(?P<seq>\d{1,7})(?![0-9]|[.,]\d|[-/]\d)")
_DATE = re.compile(r"(?<![0-9])20\d{2}([-/.])(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?![0-9])")
# "Inv 123", "Invoice No. 123, 124 and 125", "Rechnung Nr 4711", "#123"
_KEYWORD = re.compile(
    r"(?<![A-Z0-9])(?:INVOICES?|INVS?|INV\s*NO|RECHNUNG(?:EN)?|RECHNR|RGNR|RG|FACTURES?|FACTURAS?|FATTURA|"
    r"FAKTURA|FACT|BILL|RE)\.?\s*(?:NO\.?|NR\.?|NUM\.?|#|:|-)?\s*(?P<first>\d{1,7})(?![0-9]|[.,]\d)"
    r"(?P<more>(?:\s*(?:,|;|/|&|\+|AND|UND|ET|Y)\s*\d{1,7}(?![0-9]|[.,]\d))*)",
)
_HASH = re.compile(r"#\s*(?P<first>\d{1,7})(?![0-9]|[.,]\d)")
_MORE = re.compile(r"\d{1,7}")
# zero-padded or six-digit sequences standing alone: "000123", "012345", "123456"
_BARE = re.compile(r"(?<![A-Z0-9.,/-])(?P<seq>0\d{4,6}|\d{6})(?![0-9A-Z]|[.,]\d)")
_PREFIX_CHARS = re.compile(r"[A-Z0-9]")
_CREDITOR_REF = re.compile(r"^RF\d\d")  # ISO 11649 "RF18" check digits before the reference
_TAG_GLUED = re.compile(r"^(?:OBI|RFB|REF|REMI|EREF|INV(?=[#:]))[#:]?(?=[A-Z]{2})")
_INVOICE_WORDS = {"INV", "INVOICE", "INVOICES", "RE", "RG", "RECHNUNG", "FACTURE", "FACTURA", "FATTURA", "FAKTURA",
                  "BILL", "INVNO", "RECHNR"}
_OTHER_WORDS = {"PO", "ORDER", "ORD", "BESTELLUNG", "CUST", "CUSTOMER", "ACCOUNT", "ACCT", "KUNDE", "KUNDENNR",
                "CONTRACT", "VERTRAG", "CN", "CREDIT", "QUOTE", "ANGEBOT"}
_FORM_RANK = {"full": 0, "year": 1, "keyword": 2, "bare": 3}


def parse_invoice_number(number: str) -> tuple[str, int, int] | None:
    """``"US01-INV-2026-000123"`` -> ``("US01INV", 2026, 123)``; None when it is not of our shape."""
    m = _OUR_NUMBER.match(number.strip().upper())
    if not m:
        return None
    prefix = "".join(_PREFIX_CHARS.findall(m["prefix"]))
    return prefix, int(m["year"]), int(m["seq"])


def _prefix_before(text: str, start: int) -> tuple[str, str]:
    """The prefix written right before a year: the non-space run touching it ("US01-INV-", "US01INV"),
    else an invoice keyword as the previous word ("Inv 2026/123"). Returns (raw, normalised)."""
    i = start
    while i > 0 and text[i - 1] not in " \t\n,;:()[]=#*+'\"":
        i -= 1
    raw = text[i:start]
    if "/" in raw.rstrip("/"):  # "/REMI/US-INV-": a subfield tag is not part of the number
        cut = raw.rstrip("/").rindex("/") + 1
        i, raw = i + cut, raw[cut:]
    raw_tag = _TAG_GLUED.match(raw)
    if raw_tag:  # "OBIUS-INV-", "INV#US-INV-" written without a separator after the tag
        i, raw = i + raw_tag.end(), raw[raw_tag.end():]
    hint = _CREDITOR_REF.sub("", "".join(_PREFIX_CHARS.findall(raw)))
    if hint:
        return raw, hint
    j = i
    while j > 0 and text[j - 1] in " \t:#":
        j -= 1
    k = j
    while k > 0 and text[k - 1].isalpha():
        k -= 1
    word = text[k:j].rstrip(".")
    if word in _INVOICE_WORDS:
        return text[k:start], "INV"
    if word in _OTHER_WORDS:
        return text[k:start], word  # "PO 2026-000123": someone else's number, weighed as such
    return "", ""


def extract_invoice_numbers(text: str) -> list[NumberKey]:
    """Every plausible invoice number in remittance text, strongest form first, one key per
    (year, sequence). Dates (2026-03-15) and amounts (2026.50) are not numbers."""
    if not text:
        return []
    up = text.upper()
    up = _DATE.sub(lambda m: " " * len(m.group(0)), up)
    taken: list[tuple[int, int]] = []
    keys: list[NumberKey] = []

    def overlaps(a: int, b: int) -> bool:
        return any(a < e and s < b for s, e in taken)

    for m in _YEAR_SEQ.finditer(up):
        seq, sep = m["seq"], m["sep"]
        raw_prefix, hint = _prefix_before(up, m.start())
        if hint and not hint[-1].isalpha() and not raw_prefix.endswith(("-", "_", "/", ".", " ")):
            continue  # "12026/000123": the year is the tail of a longer number
        if not sep and not hint and len(seq) < 5:
            continue  # "20260315" is a date, "2026123" too short to tell
        if len(seq) < 3 and not hint:
            continue  # "2026-03": a month, not an invoice
        start = m.start() - len(raw_prefix)
        taken.append((start, m.end()))
        form = "full" if hint and hint != "INV" else "year"
        keys.append(NumberKey(sequence=int(seq), year=int(m["year"]), raw=up[start:m.end()].strip(),
                              prefix_hint=hint, form=form, digits=seq))
        # "US-INV-2026-000141/000142", "...-000141, 142 AND 143": the same series, written short
        position = m.end()
        while (more := _CONTINUED.match(up, position)) is not None and len(more["seq"]) >= min(3, len(seq)):
            taken.append((position, more.end()))
            keys.append(NumberKey(sequence=int(more["seq"]), year=int(m["year"]), raw=more["seq"],
                                  prefix_hint=hint, form=form, digits=more["seq"]))
            position = more.end()
    for pattern, hint in ((_KEYWORD, "INV"), (_HASH, "")):
        for m in pattern.finditer(up):
            if overlaps(m.start(), m.end()):
                continue
            taken.append((m.start(), m.end()))
            numbers = [m["first"]]
            if "more" in m.groupdict() and m["more"]:
                numbers += _MORE.findall(m["more"])
            for digits in numbers:
                if int(digits) == 0:
                    continue
                keys.append(NumberKey(sequence=int(digits), raw=m.group(0).strip() if len(numbers) == 1 else digits,
                                      prefix_hint=hint, form="keyword", digits=digits))
    for m in _BARE.finditer(up):
        if overlaps(m.start(), m.end()) or int(m["seq"]) == 0:
            continue
        keys.append(NumberKey(sequence=int(m["seq"]), raw=m["seq"], form="bare", digits=m["seq"]))
    best: dict[tuple[int | None, int], NumberKey] = {}
    for key in keys:
        k = (key.year, key.sequence)
        if k not in best or _FORM_RANK[key.form] < _FORM_RANK[best[k].form]:
            best[k] = key
    # a seq-only key that a dated key already covers adds nothing
    dated = {key.sequence for key in best.values() if key.year is not None}
    out = [key for key in best.values() if key.year is not None or key.sequence not in dated]
    return sorted(out, key=lambda key: _FORM_RANK[key.form])


def typo_variants(key: NumberKey, limit: int = 200) -> list[NumberKey]:
    """Sequences one edit away from what the payer wrote: two adjacent digits swapped, a digit
    missing, an extra digit, one digit different. Searched only after the numbers as written
    found nothing the amount agrees with."""
    written = key.digits or str(key.sequence)
    forms = {written, written.zfill(6)}
    found: dict[int, str] = {}

    def add(digits: str, what: str) -> None:
        if digits and digits.isdigit():
            value = int(digits)
            if 0 < value <= MAX_SEQUENCE and value != key.sequence and value not in found:
                found[value] = what

    for w in forms:
        for i in range(len(w) - 1):
            if w[i] != w[i + 1]:
                add(w[:i] + w[i + 1] + w[i] + w[i + 2:], "two digits swapped")
    for w in forms:
        for i in range(len(w) + 1):
            for d in "0123456789":
                add(w[:i] + d + w[i:], "a digit missing")
    for w in forms:
        for i in range(len(w)):
            add(w[:i] + w[i + 1:], "an extra digit")
    for w in forms:
        for i in range(len(w)):
            for d in "0123456789":
                if d != w[i]:
                    add(w[:i] + d + w[i + 1:], "one digit differs")
    variants = [
        NumberKey(sequence=value, year=key.year, raw=key.raw, prefix_hint=key.prefix_hint, form=key.form,
                  variant=what, digits=key.digits)
        for value, what in found.items()
    ]
    return variants[:limit]


def sequence_distance(written: str, sequence: int) -> int:
    """Damerau-Levenshtein distance between the digits a payer wrote and an invoice's sequence,
    ignoring zero padding ("00123" is 0 from 123)."""
    if written and int(written) == sequence:
        return 0
    target = f"{sequence:06d}"
    return min(
        DamerauLevenshtein.distance(written, target),
        DamerauLevenshtein.distance(written.zfill(6), target),
        DamerauLevenshtein.distance(written.lstrip("0") or "0", str(sequence)),
    )
