"""Payer names: normalisation without legal-form noise, and a fuzzy index of customer names.

``normalize_payer("ACME INC.") == normalize_payer("Acme, Inc") == "acme"`` and
``normalize_payer("Müller GmbH") == normalize_payer("MUELLER GMBH") == "mueller"``. The normalised
form is the key for learned aliases, so it must stay stable: change it only with a data migration
of the aliases.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "œ": "oe",
                           "å": "aa", "ł": "l", "đ": "d", "þ": "th", "&": " and ", "+": " and "})
# Legal forms after dots are dropped and punctuation becomes spaces ("S.p.A." -> "spa", "A/S" -> "as").
# Multi-word forms first. Removed at the end of a name (repeatedly: "GmbH & Co. KG"), at its start
# ("SARL Dupont"), and the unambiguous long ones anywhere.
_MULTI = [
    "sp z oo", "sp zoo", "spolka z oo", "sa de cv", "s de rl", "pty ltd", "pvt ltd", "private limited",
    "public limited company", "limited liability company", "co kg", "and co kg", "gmbh and co", "and co",
    "kgaa", "se and co",
]
_ANYWHERE = {
    "inc", "incorporated", "llc", "llp", "ltd", "limited", "plc", "gmbh", "mbh", "sarl", "sas", "sasu", "spa",
    "srl", "sprl", "bvba", "corp", "corporation", "pty", "aps", "oyj", "kgaa", "ohg", "ug", "lda", "ltda",
    "spzoo", "pte", "bhd", "sdn", "kk", "gk",
}
_EDGE = {"ag", "kg", "sa", "sl", "slu", "bv", "nv", "oy", "ab", "as", "asa", "co", "company", "cie", "se", "eg",
         "ev", "vof", "cv", "lp", "ltda", "the", "and", "et", "und", "y"}
_NOISE = {"the"}
# Legal forms spelled out, as banks print what the payer's master data says, and the abbreviation
# they compare as ("MUELLER GESELLSCHAFT MIT BESCHRAENKTER HAFTUNG" is "Müller GmbH")
_SPELLED = {
    "gesellschaft mit beschraenkter haftung": "gmbh", "gesellschaft mbh": "gmbh", "aktiengesellschaft": "ag",
    "kommanditgesellschaft": "kg", "limited liability company": "llc", "limited liability partnership": "llp",
    "public limited company": "plc", "sociedad anonima": "sa", "societe anonyme": "sa", "societa per azioni": "spa",
    "societe a responsabilite limitee": "sarl", "societe par actions simplifiee": "sas", "sociedad limitada": "sl",
    "besloten vennootschap": "bv", "naamloze vennootschap": "nv", "societa a responsabilita limitata": "srl",
}
_SPELLED_RE = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _SPELLED), key=len, reverse=True)) + r")\b")


def _abbreviate(text: str) -> str:
    return _SPELLED_RE.sub(lambda m: _SPELLED[m.group(0)], text)


def strip_cut_form(name: str) -> str:
    """A payer name without a spelled-out legal form the bank cut at 35 characters, word by word
    ("MUELLER MASCHINENBAU GESELLSCHAFT MIT BESCHR" -> "mueller maschinenbau", folded): the last
    words are the form's first words, the last of them begun. The name as it was when no form was
    cut. Only for names that were cut: the caller checks the length as the bank printed it."""
    kept, _ = _cut_spelled(name)
    return kept if kept is not None else name


def cut_form(name: str) -> str:
    """The abbreviation of the spelled-out legal form a cut name ends inside ("... LIMITED LIABILITY
    COM" -> "llc"), "" when none or when the words begun fit several forms ("LIMITED LIABILITY")."""
    _, forms = _cut_spelled(name)
    return next(iter(forms)) if len(forms) == 1 else ""


def _cut_spelled(name: str) -> tuple[str | None, set[str]]:
    text = _SPACES.sub(" ", _NON_WORD.sub(" ", _fold(name or "").replace(".", ""))).strip()
    words = text.split()
    most, forms = 0, set()  # the most words of one form at the end ("public limi": two of PUBLIC LIMITED COMPANY)
    for form in _SPELLED:
        parts = form.split()
        for count in range(min(len(parts), len(words) - 1), 0, -1):
            if count < most:
                break
            tail = words[-count:]
            # one word alone must be cut inside the form's first ("GESELL", "LIMI"): a whole "PUBLIC"
            # may be the name's own word
            if tail[:-1] == parts[:count - 1] and parts[count - 1].startswith(tail[-1]) and (
                    count > 1 or (len(tail[-1]) >= 4 and (tail[-1] != parts[0] or len(parts) == 1))):
                if count > most:
                    most, forms = count, set()
                forms.add(_SPELLED[form])
                break
    return (" ".join(words[:-most]) if most else None), forms
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")


def _fold(name: str) -> str:
    text = name.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


# What banks and payers' AP systems add around a payer's name: "PAYMENT FROM ACME LTD",
# "ACME LTD AP DEPT", "ACME GMBH ACCOUNTS PAYABLE" (the last word possibly cut at 35 characters).
_LEADING_NOISE = re.compile(
    r"^(?:(?:payment|paymt|pmt|pymt|transfer|trf|wire|remittance|zahlung|virement) (?:from|by|von|de) |"
    r"from |by order of |b o |ordering (?:party|customer) |remitter |on behalf of |obo )+")
_TRAILING_NOISE = re.compile(
    r"(?: (?:accounts? payables?|accts? payables?|acct payables?|ap|a p|payables?|kreditorenbuchhaltung|"
    r"kreditoren|buchhaltung|treasury|finance|comptabilite fournisseurs|fournisseurs|tesoreria|"
    r"proveedores)(?: (?:d|de|dep|dept|depart\w*|dpt|department|team|unit|office|off|ofc))?)+$")


def strip_bank_noise(text: str) -> str:
    """Folded payer text without the phrases banks and AP systems add around the name (never
    the whole text: "Treasury" alone stays)."""
    stripped = _TRAILING_NOISE.sub("", _LEADING_NOISE.sub("", text)).strip()
    return stripped or text


_CUT_NOISE = ("accounts payable", "accounts payables", "account payable", "accts payable", "acct payable",
              "accounts payable dept", "accounts payable department", "ap dept", "ap department",
              "kreditorenbuchhaltung", "buchhaltung", "treasury", "finance", "payables", "payment from")


def strip_cut_noise(normalized: str) -> str:
    """A normalised payer without the bank's or AP's phrase that the bank cut at 35 characters
    ("acme accounts payab" -> "acme"): the last one to three words begin one of the phrases.
    Only for names that were cut: the caller checks the length as the bank printed it."""
    words = normalized.split()
    for count in (3, 2, 1):
        if len(words) <= count:
            continue
        tail = " ".join(words[-count:])
        if len(tail) >= 3 and any(phrase.startswith(tail) and phrase != tail for phrase in _CUT_NOISE):
            return " ".join(words[:-count])
    return normalized


def truncated_match(payer: str, name: str) -> bool:
    """The normalised payer is the customer's normalised name cut short, as banks cut names at 35
    (or 27) characters: every word equal but the last, which begins the customer's word at that
    place ("acme holdings intern" for "acme holdings international"); a dangling cut legal form
    ("... limi") is ignored. At least 8 characters must remain so that short names do not match."""
    if len(payer) < 8 or not name or payer == name:
        return payer == name and bool(name)
    words, target = payer.split(), name.split()
    for candidate in (words, words[:-1]):
        if not candidate or len(candidate) > len(target) or len(" ".join(candidate)) < 8:
            continue
        if candidate[:-1] == target[:len(candidate) - 1] and target[len(candidate) - 1].startswith(candidate[-1]):
            return True
    return False


_FORM_CANON = {"incorporated": "inc", "limited": "ltd", "corporation": "corp", "company": "co", "gesmbh": "gmbh",
               "mbh": "gmbh", "lp": "lp", "plc": "plc"}


def legal_form(name: str) -> str:
    """The legal form a name ends with, spelled one way ("Acme Incorporated" and "ACME INC." -> "inc",
    "G.M.B.H." -> "gmbh", "Acme Ltd AP Dept" -> "ltd"); "" without one. Tells apart customers whose
    names are equal without it ("Watson Health LLP" and "Watson Health Corp.")."""
    text = _fold(name or "")
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", text)
    text = _SPACES.sub(" ", _NON_WORD.sub(" ", text.replace(".", "").replace("/", ""))).strip()
    words = strip_cut_noise(strip_bank_noise(_abbreviate(text))).split()
    form: list[str] = []
    while len(words) > 1 and (words[-1] in _ANYWHERE or words[-1] in _EDGE) and words[-1] not in ("the", "and"):
        form.insert(0, _FORM_CANON.get(words[-1], words[-1]))
        words.pop()
    return " ".join(form)


def normalize_payer(name: str) -> str:
    """Lower-case ASCII words of a payer or customer name without punctuation, "the", "and", the
    bank's and AP department's noise ("payment from", "AP dept", "accounts payable") and the
    legal form (Inc, LLC, Ltd, PLC, GmbH, AG, KG, SARL, SAS, S.A., B.V., N.V., S.p.A., S.L., Oy,
    AB, AS, ApS, Sp. z o.o., Pty...)."""
    text = _fold(name or "")
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", text)  # s.p.a -> spa, b.v -> bv (dots between letters)
    text = text.replace(".", "").replace("/", "")  # inc. -> inc, a/s -> as, o.o. -> oo
    text = _NON_WORD.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return ""
    text = strip_bank_noise(_abbreviate(text))
    padded = f" {text} "
    for form in _MULTI:
        padded = padded.replace(f" {form} ", " ")
    words = [w for w in padded.split() if w not in _ANYWHERE and w not in _NOISE]
    while len(words) > 1 and words[-1] in _EDGE:
        words.pop()
    while len(words) > 1 and words[0] in _EDGE:
        words.pop(0)
    return " ".join(words) if words else text


@dataclass(frozen=True)
class NameHit:
    customer_id: int
    name: str  # as the customer master file has it
    score: float  # token_set_ratio 0..100
    sort_score: float  # token_sort_ratio 0..100 (token_set says 100 for "acme" in "acme widgets")


class NameIndex:
    """Normalised customer names of one legal entity with an inverted word index, so that a payer is
    compared with the customers sharing a rare word rather than with all of them."""

    COMMON = 400  # a word on more names than this does not narrow the search

    def __init__(self, names: list[tuple[int, str]]) -> None:
        self.source = names
        self.by_id: dict[int, str] = {}
        self.display: dict[int, str] = dict(names)
        self.words: dict[str, list[int]] = {}
        self.by_norm: dict[str, list[int]] = {}
        self.forms: dict[int, str] = {}
        self._first: list[tuple[str, int, list[str]]] | None = None  # (first word, id, words), built when asked
        self._first_keys: list[str] = []
        for customer_id, name in names:
            norm = normalize_payer(name)
            self.forms[customer_id] = legal_form(name)
            self.by_id[customer_id] = norm
            self.by_norm.setdefault(norm, []).append(customer_id)
            for word in set(norm.split()):
                self.words.setdefault(word, []).append(customer_id)

    def begun_by(self, head: list[str], last: str) -> list[int]:
        """The customers whose normalised names begin with the words `head` and then a word beginning
        with `last`, in id order. Looked up in the names sorted by their first word (a stem is asked
        for on many receipts of an import; comparing it with every name cost 10 ms each time)."""
        if self._first is None:
            self._first = sorted((words[0], cid, words) for cid, name in self.by_id.items() if (words := name.split()))
            self._first_keys = [first for first, _, _ in self._first]
        first = head[0] if head else last
        begin = bisect_left(self._first_keys, first)
        end = bisect_right(self._first_keys, first) if head else bisect_left(self._first_keys, first + "\U0010ffff")
        size = len(head)
        return sorted(cid for _, cid, target in self._first[begin:end]
                      if len(target) > size and target[:size] == head and target[size].startswith(last))

    def similarity(self, normalized_payer: str, customer_id: int) -> float:
        name = self.by_id.get(customer_id)
        if not name or not normalized_payer:
            return 0.0
        return fuzz.token_set_ratio(normalized_payer, name)

    def search(self, normalized_payer: str, cutoff: float = 80, limit: int = 5) -> list[NameHit]:
        if not normalized_payer:
            return []
        ids: set[int] = set()
        for word in normalized_payer.split():
            posting = self.words.get(word, ())
            if len(posting) <= self.COMMON:
                ids.update(posting)
        if ids:
            choices = {cid: self.by_id[cid] for cid in ids}
            found = process.extract(normalized_payer, choices, scorer=fuzz.token_set_ratio,
                                    score_cutoff=cutoff, limit=limit)
        else:  # no shared word ("muller" for "mueller"): a fast whole-name ratio over everyone
            found = process.extract(normalized_payer, self.by_id, scorer=fuzz.ratio,
                                    score_cutoff=max(cutoff, 88), limit=limit)
        # names equal to the payer's always take part, whatever ties token_set_ratio's limit cut
        exact = [cid for cid in self.by_norm.get(normalized_payer, ()) if cid not in {cid for _, _, cid in found}]
        found = [*found, *((self.by_id[cid], 100.0, cid) for cid in exact)]
        hits = [NameHit(cid, self.display[cid], score, fuzz.token_sort_ratio(normalized_payer, name)) for name, score, cid in found]
        return sorted(hits, key=lambda h: (-h.score, -h.sort_score, h.customer_id))


_CACHE: OrderedDict[int, NameIndex] = OrderedDict()
# Threads of one process (the development server, a billing run's thread) import at once: the look-up,
# the move to the end and the eviction are one step, or an entry evicted between them raises KeyError.
_CACHE_LOCK = threading.Lock()


def name_index(legal_entity_id: int, names: list[tuple[int, str]]) -> NameIndex:
    """The index for these names, rebuilt only when the Book's list changed (same object, or equal)."""
    with _CACHE_LOCK:
        index = _CACHE.get(legal_entity_id)
        if index is not None and (index.source is names or index.source == names):
            # a new Book's equal list: kept as the source, so that its next receipts are told by identity
            # (comparing 4,000 names for every receipt of an import was a tenth of the matcher's time)
            index.source = names
            _CACHE.move_to_end(legal_entity_id)
            return index
        index = NameIndex(names)
        _CACHE[legal_entity_id] = index
        while len(_CACHE) > 16:
            _CACHE.popitem(last=False)
        return index
