"""Who paid: the customer behind a receipt's payer, by the customer id given, the payer's bank account,
a learned alias, the remittance e-mail domain and the payer's name as banks print it (noise words,
cut at the bank's width, legal forms spelled out). See the engine's docstring for the confidences."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from otc.money import format_amount, minor_units, quantize

from .combine import fewest_subsets
from .common import CUT_WIDTHS, STRONG_ID, clean_invoices, noisy_or
from .names import (
    NameIndex,
    cut_form,
    legal_form,
    name_index,
    normalize_payer,
    strip_cut_form,
    strip_cut_noise,
    truncated_match,
)
from .types import Book, ReceiptFacts


@dataclass(frozen=True)
class Identified:
    customer_id: int
    confidence: float
    rule: str
    reason: str


@dataclass
class Payer:
    normalized: str
    candidates: list[Identified]
    names: NameIndex | None

    def confidence(self, customer_id: int) -> Identified | None:
        return next((c for c in self.candidates if c.customer_id == customer_id), None)

    @property
    def strong(self) -> Identified | None:
        top = self.candidates[0] if self.candidates else None
        return top if top and top.confidence >= STRONG_ID else None


def identify_payer(receipt: ReceiptFacts, book: Book) -> Payer:
    """Rule 4: the customer behind the payer, by id given, bank account, learned alias or fuzzy name."""
    normalized = normalize_payer(receipt.payer_name)
    names: NameIndex | None = None
    if receipt.customer_id is not None:
        return Payer(normalized, [Identified(receipt.customer_id, 1.0, "customer_given",
                                             "Customer identified before matching")], None)
    found: dict[int, Identified] = {}

    def add(item: Identified) -> None:
        old = found.get(item.customer_id)
        if old is None:
            found[item.customer_id] = item
        else:  # independent sources agreeing
            found[item.customer_id] = Identified(item.customer_id, noisy_or([old.confidence, item.confidence]),
                                                 old.rule, f"{old.reason}; {item.reason}")

    account = "".join(receipt.payer_account.split()).upper()
    if account:
        ids = sorted(set(book.customers_by_account(account)))
        for cid in ids:
            if len(ids) == 1:
                add(Identified(cid, 0.97, "payer_account", f"Payer account {account} belongs to this customer"))
            else:
                add(Identified(cid, 0.6, "payer_account",
                               f"Payer account {account} is used by {len(ids)} customers"))
    if normalized:
        ids = sorted(set(book.customers_by_alias(normalized)))
        # an alias that is another customer's very name (once the bank's words are gone) proves little
        namesakes = []
        if ids:
            names = name_index(receipt.legal_entity_id, book.customer_names(receipt.legal_entity_id))
            namesakes = [cid for cid in names.by_norm.get(normalized, ()) if cid not in ids]
        for cid in ids:
            if len(ids) == 1 and namesakes:
                add(Identified(cid, 0.6, "payer_alias", f"Payer '{receipt.payer_name}' is a learned alias, but also "
                                                         f"the name of {len(namesakes)} other customer(s)"))
            elif len(ids) == 1:
                add(Identified(cid, 0.95, "payer_alias", f"Payer '{receipt.payer_name}' is a learned alias"))
            else:
                add(Identified(cid, 0.6, "payer_alias",
                               f"Payer '{receipt.payer_name}' is an alias of {len(ids)} customers"))
    for domain in _email_domains(receipt.remittance):
        ids = sorted(set(getattr(book, "customers_by_email_domain", lambda _d: [])(domain)))
        for cid in ids:
            add(Identified(cid, 0.9 if len(ids) == 1 else 0.5, "payer_email",
                           f"Remittance e-mail domain {domain} is this customer's"
                           if len(ids) == 1 else f"Remittance e-mail domain {domain} is used by {len(ids)} customers"))
    if normalized:
        names = name_index(receipt.legal_entity_id, book.customer_names(receipt.legal_entity_id))
        if len(" ".join(receipt.payer_name.split())) >= 27:  # cut by the bank: maybe inside "ACCOUNTS PAYABLE"
            unformed = strip_cut_form(receipt.payer_name)  # or inside a spelled-out legal form
            normalized = normalize_payer(unformed if unformed != receipt.payer_name else strip_cut_noise(normalized))
    best = max((c.confidence for c in found.values()), default=0.0)
    cut_ambiguous = False
    cut_family: set[int] = set()  # the customers a name cut at the bank's width may stand for
    narrowed = False  # one of them told by the amount: a suggestion, which no fuzzy score may raise
    raw = " ".join(receipt.payer_name.split())
    if names is not None and normalized and len(raw) in CUT_WIDTHS:
        # printed at the width banks cut names to (ACH 16, SEPA 27, 35): if other customers' names go on
        # where it stops ("ERIKSSON SYSTEMS" of "Eriksson Systems Labs AB"), even an equal name is no proof
        longer = [cid for cid in names.words.get(normalized.split()[0], ())
                  if names.by_id[cid] != normalized and truncated_match(normalized, names.by_id[cid])]
        cut_ambiguous = bool(longer)
        if longer:
            cut_family.update(longer, names.by_norm.get(normalized, ()))
    if names is not None and best < STRONG_ID and normalized and not cut_ambiguous:
        # customers whose names are equal but for the legal form: the payer's legal form decides
        same = names.by_norm.get(normalized, [])
        form = legal_form(receipt.payer_name) or (cut_form(receipt.payer_name) if len(raw) in CUT_WIDTHS else "")
        if len(same) == 1 and not any(c.rule == "payer_alias" and c.customer_id != same[0] for c in found.values()):
            # the name of exactly one customer, once legal form and bank words are gone: a customer whose
            # name is a letter away ("Ulrich Foods" for "Ullrich Foods") does not make it doubtful
            add(Identified(same[0], 0.96, "payer_name",
                           f"Payer '{receipt.payer_name}' is customer name '{names.display[same[0]]}'"))
            best = max(best, 0.96)
        if len(same) > 1 and form:
            formed = [cid for cid in same if names.forms.get(cid) == form]
            if not formed and len(receipt.payer_name) >= 27:  # the legal form cut too: "CO.," of "Co., Ltd."
                formed = [cid for cid in same if names.forms.get(cid, "").startswith(form)]
            if len(formed) == 1:
                add(Identified(formed[0], 0.95, "payer_name",
                               f"Payer '{receipt.payer_name}' is customer name '{names.display[formed[0]]}' "
                               f"(the legal form tells it from {len(same) - 1} other customer(s) of that name)"))
                best = max(best, 0.95)
    if names is not None and best < STRONG_ID and len(receipt.payer_name) >= 16 and normalized:
        # a name the bank cut (ACH at 16, SEPA at 27/35 characters): the customer whose name it begins,
        # if only one; if several, no fuzzy score may call it identified either ("SCOTT MOBILITY R")
        cut = [cid for cid in names.words.get(normalized.split()[0], ()) if truncated_match(normalized, names.by_id[cid])]
        if len(cut) == 1 and names.by_id[cut[0]] != normalized:
            # two whole words and more before the cut ("becker manufacturing s") leave little doubt
            whole = normalized.split()[:-1]
            add(Identified(cut[0], 0.95 if len(whole) >= 2 and len(" ".join(whole)) >= 12 else 0.93, "payer_name",
                           f"Payer '{receipt.payer_name}' is customer name '{names.display[cut[0]]}' cut short by the bank"))
            best = max(best, 0.93)
        cut_ambiguous = cut_ambiguous or (len(cut) > 1 and not names.by_norm.get(normalized))
        if len(cut) > 1:
            cut_family.update(cut)
    if names is not None and best < STRONG_ID and normalized and len(raw) in CUT_WIDTHS and not cut_family:
        # the bank's own words took most of the width ("PAYMENT FROM GRE", ACH at 16): a few letters of
        # the payer's name are left, too few to name anyone, but they still narrow who it may be
        stem = stem_family(normalized, names)
        if stem and stem != names.by_norm.get(normalized, []):
            cut_ambiguous = True
            cut_family.update(stem)
    if cut_ambiguous and best < STRONG_ID and 0 < len(cut_family) <= FAMILY_MAX and names is not None:
        # "ERIKSSON SYSTEMS" (ACH, cut at 16) may be several customers: the one of them whose open items
        # pay the amount with the fewest invoices (one of exactly the amount, else two or three adding up
        # to it) is a suggestion, never an identification (0.85 < 0.9)
        fitting = fewest_fitting(receipt, book, cut_family)
        if fitting is not None:
            cid, size = fitting
            amount = format_amount(quantize(receipt.amount, receipt.currency), receipt.currency)
            what = (f"an open invoice of {amount}" if size == 1 else f"{size} open invoices adding up to {amount}")
            add(Identified(cid, 0.85, "payer_name_cut_amount",
                           f"Payer '{receipt.payer_name}' is cut short by the bank and begins {len(cut_family)} "
                           f"customers' names; of them only '{names.display[cid]}' has {what}: a person confirms"))
            narrowed = True
    if names is not None and best < STRONG_ID and not narrowed and len(normalized.replace(" ", "")) >= 4:
        # ("PAYMENT FROM VAN", an ACH name cut at 16, leaves "van": resembling every "van ..." proves nothing)
        hits = names.search(normalized, cutoff=80, limit=5)
        if hits:
            top = hits[0]
            # token_set_ratio says 100 for "acme" in "acme widgets": rivals are as close on both measures
            rivals = [h for h in hits[1:] if h.score >= top.score - 5 and h.sort_score >= top.sort_score - 8]
            aliased_elsewhere = any(c.rule == "payer_alias" and c.customer_id != top.customer_id for c in found.values())
            if top.score >= 95 and top.sort_score >= 90 and not rivals and not aliased_elsewhere and not cut_ambiguous:
                add(Identified(top.customer_id, 0.96 if top.sort_score == 100 else 0.93, "payer_name",
                               f"Payer '{receipt.payer_name}' matches customer name '{top.name}' "
                               f"({top.score:.0f}%)"))
            else:
                for hit in hits[:3]:
                    conf = 0.3 + 0.4 * (hit.score - 80) / 20
                    if rivals or cut_ambiguous:
                        conf = min(conf, 0.5)
                    conf *= 0.5 + 0.5 * hit.sort_score / 100
                    add(Identified(hit.customer_id, round(conf, 3), "payer_name",
                                   f"Payer '{receipt.payer_name}' resembles customer name '{hit.name}' "
                                   f"({hit.score:.0f}%{', other names as close' if rivals else ''})"))
    ranked = sorted(found.values(), key=lambda c: (-c.confidence, c.customer_id))
    return Payer(normalized, ranked, names)


FAMILY_MAX = 60  # the customers a cut name may stand for that the amount still narrows
STEM_MIN = 3  # letters of the payer's name left after the bank's words, the fewest that narrow
STEM_POOL = 80  # a customer's open items searched for two or three that add up (due nearest first)


def stem_family(normalized: str, names: NameIndex) -> list[int]:
    """The customers whose normalised names a name too short to identify anyone begins, word for word
    and the last word begun ("gre" for Green Logistics, Gregor Foods...): only for fewer than the 8
    characters a cut name needs to identify (names.truncated_match), at least STEM_MIN letters."""
    words = normalized.split()
    if not words or len(normalized) >= 8 or len(normalized.replace(" ", "")) < STEM_MIN:
        return []
    return names.begun_by(words[:-1], words[-1])


def fewest_fitting(receipt: ReceiptFacts, book: Book, family: Iterable[int]) -> tuple[int, int] | None:
    """The one customer of `family` whose open items pay the receipt with the fewest invoices: one of
    exactly the amount, else two, else three adding up to it (each customer's STEM_POOL open items
    due nearest the payment). (customer, how many invoices), or None when none fits or several fit
    with as few. Searched size by size, so a fit with one invoice costs no search of pairs."""
    amount = quantize(receipt.amount, receipt.currency)
    unit = minor_units(receipt.currency)
    target = int(amount.scaleb(unit))
    pools: dict[int, list[int]] = {}
    exact = []
    for cid in sorted(set(family)):
        invoices = clean_invoices(book.open_invoices(cid, receipt.legal_entity_id, receipt.currency), receipt.currency)
        if any(inv.open_amount == amount for inv in invoices):
            exact.append(cid)
        elif not exact:
            pool = sorted((inv for inv in invoices if inv.open_amount < amount),
                          key=lambda i: abs((i.due_date - receipt.value_date).days))[:STEM_POOL]
            if len(pool) >= 2:
                pools[cid] = [int(i.open_amount.scaleb(unit)) for i in pool]
    if exact:
        return (exact[0], 1) if len(exact) == 1 else None
    for size in (2, 3):
        fit = [cid for cid, cents in pools.items()
               if any(len(s) == size for s in fewest_subsets(cents, target, max_items=size, budget=2_000)[0].solutions)]
        if fit:
            return (fit[0], size) if len(fit) == 1 else None
    return None


_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
PUBLIC_MAIL = {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com",
               "aol.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "mail.com", "proton.me", "protonmail.com"}


def _email_domains(text: str) -> list[str]:
    """Company e-mail domains in the remittance (a remittance advice address), public mail excluded."""
    found = [m.group(1).lower() for m in _EMAIL_DOMAIN.finditer(text or "")]
    return [d for d in dict.fromkeys(found) if d not in PUBLIC_MAIL]
