"""The cash-application pipeline: who paid, for which invoices, and how sure we are.

Scoring (docs/cash-application.md, "Matching rules", says the same for finance users):

* A hypothesis found by **invoice numbers** is scored as a noisy-OR of independent pieces of
  evidence, ``1 - prod(1 - w)``: the number (full ``US01-INV-2026-000123`` 0.85, year and
  sequence 0.80, "Inv 123" 0.55, a bare "000123" 0.35, someone else's prefix 0.40; a one-edit typo
  keeps 45% of its form's weight), the amount (the allocated invoices sum exactly to the receipt
  0.80, two ways to do so 0.50, short within tolerance 0.60, overpaid 0.30, partial 0) and the
  payer (identified as the invoice's customer: 0.9 x that identification's confidence; else the
  payer's name resembling the customer's: 0.60 from 90, 0.30 from 80).
* A hypothesis found by **amount alone** needs an identified customer and is scored
  ``identification x choice``: one open invoice of exactly the amount 0.97, two or more 0.50, a
  unique combination 0.95 (0.75 when the search bound was hit, 0.55 when two exist), the whole
  balance 0.95, one invoice short within tolerance 0.85, overpaying the whole balance 0.60, oldest
  first as a last resort 0.30.
* Identification: given 1.0, payer account 0.97, learned alias 0.95 (both 0.6 when shared by
  several customers), fuzzy name 0.96 when the normalised names are equal, 0.93 when unambiguous
  and close on both token_set and token_sort, else 0.30-0.70.
* Vetoes and caps: an invoice of a customer other than the one the payer was identified as
  keeps 35% of its score when the payer's account, alias or given id points elsewhere (at 0.97;
  proportionally milder for weaker identifications, none below 0.5) and about 72% when only a
  fuzzy name does; an overpayment of more than 10% is no amount evidence; a typo without an agreeing amount is capped at 0.50; no
  agreeing amount and less than a year-and-sequence number is capped at 0.85; the best suggestion
  loses ``(competitor - 0.5)`` of its score when a different suggestion scores >= 0.60 (and the
  competitor likewise).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from otc.money import format_amount, minor_units, quantize

from .combine import SubsetResult, fewest_subsets, subset_sums
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
from .numbers import extract_invoice_numbers, parse_invoice_number, sequence_distance, typo_variants
from .types import ZERO, Allocation, Book, MatchPolicy, NumberKey, OpenInvoice, ReceiptFacts, Suggestion

MAX_SUGGESTIONS = 5
CUT_WIDTHS = frozenset({15, 16, 26, 27, 34, 35})  # a name cut at 16, 27 or 35 characters (a space before it dropped)
MAX_VARIANT_KEYS = 400
NUMBER_WEIGHT = {"full": 0.85, "year": 0.80, "keyword": 0.55, "bare": 0.35}
FOREIGN_PREFIX_WEIGHT = 0.40
TYPO_KEEP = 0.45
AMOUNT_EXACT, AMOUNT_EXACT_AMBIGUOUS, AMOUNT_SHORT, AMOUNT_OVER = 0.80, 0.50, 0.60, 0.30
CONFLICT_KEEP = 0.35
FUZZY_CONFLICT = 0.3
STRONG_ID = 0.9
RIVAL = 0.6


def _noisy_or(weights: Iterable[float]) -> float:
    doubt = 1.0
    for w in weights:
        doubt *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - doubt


# --------------------------------------------------------------------------------------------------
# who paid


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
            found[item.customer_id] = Identified(item.customer_id, _noisy_or([old.confidence, item.confidence]),
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
    if cut_ambiguous and best < STRONG_ID and 1 < len(cut_family) <= 20 and names is not None:
        # "ERIKSSON SYSTEMS" (ACH, cut at 16) may be several customers: the one of them with an open
        # invoice of exactly the amount is a suggestion, never an identification (0.85 < 0.9)
        amount = quantize(receipt.amount, receipt.currency)
        fitting = [cid for cid in sorted(cut_family)
                   if any(inv.open_amount == amount for inv in _clean(
                       book.open_invoices(cid, receipt.legal_entity_id, receipt.currency), receipt.currency))]
        if len(fitting) == 1:
            add(Identified(fitting[0], 0.85, "payer_name_cut_amount",
                           f"Payer '{receipt.payer_name}' is cut short by the bank and begins {len(cut_family)} "
                           f"customers' names; of them only '{names.display[fitting[0]]}' has an open invoice of "
                           f"{format_amount(amount, receipt.currency)}: a person confirms"))
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


_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
PUBLIC_MAIL = {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com",
               "aol.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "mail.com", "proton.me", "protonmail.com"}


def _email_domains(text: str) -> list[str]:
    """Company e-mail domains in the remittance (a remittance advice address), public mail excluded."""
    found = [m.group(1).lower() for m in _EMAIL_DOMAIN.finditer(text or "")]
    return [d for d in dict.fromkeys(found) if d not in PUBLIC_MAIL]


# --------------------------------------------------------------------------------------------------
# building suggestions


@dataclass
class _Candidate:
    customer_id: int | None
    allocations: list[Allocation]
    score: float
    rules: list[str]
    reasons: list[str]
    on_account: Decimal = ZERO
    short: Decimal = ZERO
    unapplied: Decimal = ZERO
    amount_agrees: bool = False

    def key(self) -> tuple:
        return self.customer_id, frozenset((a.invoice_id, a.amount) for a in self.allocations)


@dataclass
class _Hit:
    invoice: OpenInvoice
    key: NumberKey
    weight: float
    reason: str


@dataclass
class _Run:
    receipt: ReceiptFacts
    book: Book
    policy: MatchPolicy
    amount: Decimal
    payer: Payer
    candidates: list[_Candidate] = field(default_factory=list)

    def money(self, value: Decimal) -> str:
        return format_amount(value, self.receipt.currency)

    def q(self, value: Decimal) -> Decimal:
        return quantize(value, self.receipt.currency)

    def tolerance(self, due: Decimal) -> Decimal:
        """Short payment tolerated on `due`: the smaller of the percentage and the absolute amount."""
        percent = due * self.policy.short_pay_tolerance_percent / Decimal(100)
        return self.q(min(percent, self.policy.short_pay_tolerance_amount))

    def cents(self, value: Decimal) -> int:
        return int(value.scaleb(minor_units(self.receipt.currency)).to_integral_value())

    # allocation shapes -----------------------------------------------------------------------

    def allocate_oldest_first(self, invoices: list[OpenInvoice]) -> tuple[list[Allocation], Decimal]:
        """Allocate the receipt over `invoices` oldest first; returns allocations and what is left."""
        left = self.amount
        allocations = []
        for inv in sorted(invoices, key=_age):
            if left <= 0:
                break
            part = min(left, inv.open_amount)
            allocations.append(Allocation(inv.id, inv.number, part))
            left -= part
        return allocations, left

    def payer_evidence(self, customer_id: int) -> tuple[float, float, list[str], list[str]]:
        """(noisy-OR weight, multiplicative factor, rules, reasons) the payer adds to a customer."""
        known = self.payer.confidence(customer_id)
        if known is not None:
            return 0.9 * known.confidence, 1.0, [known.rule], [known.reason]
        other = self.payer.candidates[0] if self.payer.candidates else None
        if other is not None and other.confidence >= STRONG_ID and customer_id in _group(self.book, other.customer_id):
            return 0.85 * other.confidence, 1.0, ["payer_group"], [
                f"{other.reason}; the invoice is of customer {customer_id}, in the same corporate group"]
        if other is not None and other.confidence >= 0.5:  # the payer points at someone else
            # an account, alias or given customer vetoes; a fuzzy name only doubts (bank names get cut)
            severity = 1 - CONFLICT_KEEP if other.rule != "payer_name" else FUZZY_CONFLICT
            keep = 1 - severity / 0.97 * min(other.confidence, 0.97)
            return 0.0, keep, ["payer_conflict"], [
                f"{other.reason}, but the invoice belongs to customer {customer_id} "
                f"(customer {other.customer_id} expected)"]
        if self.payer.names is not None and self.payer.normalized:
            sim = self.payer.names.similarity(self.payer.normalized, customer_id)
            if sim >= 80:
                weight = 0.6 if sim >= 90 else 0.3
                name = self.payer.names.display.get(customer_id, "")
                return weight, 1.0, ["payer_name"], [
                    f"Payer '{self.receipt.payer_name}' resembles the customer's name '{name}' ({sim:.0f}%)"]
        return 0.0, 1.0, [], []


def _clean(invoices: Iterable[OpenInvoice], currency: str) -> list[OpenInvoice]:
    """Invoices in the receipt's currency with something open, amounts in the currency's minor unit."""
    exponent = -minor_units(currency)
    out = []
    for inv in invoices:
        if inv.currency != currency or inv.open_amount <= 0:
            continue  # rule 6: never across currencies, whatever a Book returns
        if inv.open_amount.as_tuple().exponent != exponent:
            inv = dataclasses.replace(inv, open_amount=quantize(inv.open_amount, currency))
        out.append(inv)
    return out


def _age(inv: OpenInvoice) -> tuple:
    return inv.due_date, inv.issue_date, inv.id


def _number_weight(key: NumberKey, invoice: OpenInvoice) -> tuple[float, str]:
    """Weight of `key` pointing at `invoice`, and the reason's wording."""
    parsed = parse_invoice_number(invoice.number)
    prefix = parsed[0] if parsed else ""
    weight = NUMBER_WEIGHT[key.form]
    note = ""
    hint = key.prefix_hint
    if hint and hint != "INV" and prefix and hint != prefix and not prefix.endswith(hint) and not prefix.startswith(hint):
        weight, note = FOREIGN_PREFIX_WEIGHT, f"written with prefix {hint}, ours is {prefix}"
    elif key.form == "full" and hint != prefix:
        weight = NUMBER_WEIGHT["year"]
    if key.variant:
        weight *= TYPO_KEEP
        note = key.variant if not note else f"{note}; {key.variant}"
    elif key.digits and len(key.digits.lstrip("0")) == len(str(key.sequence)) and len(key.digits) < 6 <= len(
            f"{key.sequence:06d}") and key.year is not None:
        note = "leading zero dropped"
    text = f"Remittance '{key.raw}' matches {invoice.number}"
    return weight, f"{text} ({note})" if note else text


def _number_hits(run: _Run, keys: list[NumberKey], invoices: list[OpenInvoice]) -> list[_Hit]:
    by_seq: dict[int, list[NumberKey]] = {}
    for key in keys:
        by_seq.setdefault(key.sequence, []).append(key)
    hits: dict[int, _Hit] = {}
    for inv in _clean(invoices, run.receipt.currency):
        if inv.legal_entity_id != run.receipt.legal_entity_id:
            continue
        parsed = parse_invoice_number(inv.number)
        if not parsed:
            continue
        _, year, seq = parsed
        for key in by_seq.get(seq, ()):
            if key.year is not None and key.year != year:
                continue
            if key.variant and sequence_distance(key.digits or str(key.sequence), seq) > 1:
                continue
            weight, reason = _number_weight(key, inv)
            if inv.id not in hits or weight > hits[inv.id].weight:
                hits[inv.id] = _Hit(inv, key, weight, reason)
    return list(hits.values())


def _by_numbers(run: _Run, hits: list[_Hit], *, typo: bool) -> None:
    """Rule 1 (with 5): invoices named in the remittance, grouped by customer, shaped by the amount."""
    groups: dict[int, list[_Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.invoice.customer_id, []).append(hit)
    # typo candidates hit many customers (with dense numbering almost every one-edit variant is someone's
    # invoice): those the payer points at first, then those with an invoice of the amount (or short of it
    # within the tolerance), so that the bound below never drops the one the amount agrees with
    def fits(group: list[_Hit]) -> bool:
        return any(ZERO <= h.invoice.open_amount - run.amount <= run.tolerance(h.invoice.open_amount) for h in group)

    ranked = sorted(groups.items(), key=lambda kv: (-run.payer_evidence(kv[0])[0], not fits(kv[1]),
                                                    -max(h.weight for h in kv[1])))
    ranked = ranked[:20]
    for customer_id, group in ranked:
        group = sorted(group, key=lambda h: (-h.weight, _age(h.invoice)))[:12]
        _number_candidate(run, customer_id, group, typo=typo)


def _number_candidate(run: _Run, customer_id: int, group: list[_Hit], *, typo: bool) -> None:
    amount = run.amount
    invoices = [h.invoice for h in group]
    one_per_key = len({(h.key.year, h.key.sequence, h.key.variant) for h in group}) == len(group) and not typo
    total = sum((inv.open_amount for inv in invoices), ZERO)
    chosen: list[_Hit] = []
    amount_w, amount_rule, amount_reason = 0.0, "", ""
    allocations: list[Allocation] = []
    on_account = short = ZERO
    # exact: all named invoices, else a subset of them
    if one_per_key and total == amount:
        chosen = group
    else:
        result = subset_sums([run.cents(inv.open_amount) for inv in invoices], run.cents(amount),
                             max_items=run.policy.max_combination_invoices, max_solutions=2, budget=5_000)
        if result.solutions:
            chosen = [group[i] for i in result.solutions[0]]
            if len(result.solutions) > 1:
                amount_w = AMOUNT_EXACT_AMBIGUOUS
                amount_reason = (f"{len(chosen)} of the named invoices sum to {run.money(amount)}, "
                                 "but so do others among them")
    if chosen:
        amount_w = amount_w or AMOUNT_EXACT
        amount_rule = "exact_amount"
        allocations = [Allocation(h.invoice.id, h.invoice.number, h.invoice.open_amount) for h in
                       sorted(chosen, key=lambda h: _age(h.invoice))]
        if not amount_reason:
            amount_reason = (f"Amount {run.money(amount)} equals the open amount" if len(chosen) == 1 else
                             f"{len(chosen)} invoices sum to {run.money(amount)}")
    else:
        # short within tolerance: all named invoices, else the single closest one
        options = ([invoices] if one_per_key else []) + [[inv] for inv in sorted(
            invoices, key=lambda i: (abs(i.open_amount - amount), _age(i)))]
        for option in options:
            due = sum((inv.open_amount for inv in option), ZERO)
            if ZERO < due - amount <= run.tolerance(due):
                allocations, _ = run.allocate_oldest_first(option)
                short = due - amount
                chosen = [h for h in group if h.invoice in option]
                amount_w, amount_rule = AMOUNT_SHORT, "short_payment"
                amount_reason = (f"Short by {run.money(short)} on {run.money(due)} "
                                 f"(within tolerance {run.money(run.tolerance(due))}): left open on "
                                 f"{allocations[-1].invoice_number}")
                break
    if not chosen:
        if typo:
            group = [h for h in group if h.key.variant]
            if not group or run.payer_evidence(customer_id)[0] <= 0:
                return  # a typo alone for a customer the payer does not point at: noise
        chosen = group if one_per_key else group[:1]
        option = [h.invoice for h in chosen]
        due = sum((inv.open_amount for inv in option), ZERO)
        allocations, left = run.allocate_oldest_first(option)
        completed = None
        if amount > due and not typo and left > 0:
            payer = run.payer.confidence(customer_id)
            strong = run.payer.strong
            if (payer is not None and payer.confidence >= STRONG_ID) or strong is None:
                completed = _complete(run, customer_id, option, left)
        if completed is not None:
            extra, choice, note = completed
            allocations = [Allocation(inv.id, inv.number, inv.open_amount)
                           for inv in sorted([*option, *extra], key=_age)]
            number_w = min(h.weight for h in chosen)
            payer_w, factor, payer_rules, payer_reasons = run.payer_evidence(customer_id)
            score = _noisy_or([number_w, AMOUNT_EXACT, payer_w]) * factor * choice
            reasons = [h.reason for h in sorted(chosen, key=lambda h: _age(h.invoice))]
            reasons.append(f"Pays {run.money(due)} named and {note}")
            if payer_w < 0.9 * STRONG_ID:  # the customer known only from the numbers: a person confirms
                score = min(score, 0.85)
                reasons.append("The payer is not identified: the completion is only a suggestion")
            if _round_rest(left):  # 1,000.00 more is as likely a prepayment as a fee invoice of 1,000.00
                score = min(score, 0.85)
                reasons.append(f"A round rest ({run.money(left)}) may as well be money on account: a person decides")
            run.candidates.append(_Candidate(
                customer_id, allocations, score, ["invoice_number", "remittance_completed", *payer_rules],
                [*reasons, *payer_reasons], amount_agrees=True))
            return
        if amount > due:
            on_account = left
            # a little more than due is an overpayment; five times as much is probably another invoice
            amount_w = AMOUNT_OVER if on_account <= due * Decimal("0.1") else 0.0
            amount_rule = "overpayment"
            amount_reason = f"Overpays {run.money(due)} by {run.money(on_account)}: the rest goes on account"
            if amount_w == 0.0 and _round_rest(on_account):
                amount_reason += ("; a round rest that none of the payer's open invoices adds up to: "
                                  "a person decides what it is for")
        else:
            amount_rule = "partial_payment"
            amount_reason = (f"Pays {run.money(amount)} of {run.money(due)} (beyond the short-payment tolerance): "
                             f"{run.money(due - amount)} stays open")
    if typo and not any(h.key.variant for h in chosen):
        return  # the numbers as written found this already
    number_w = min(h.weight for h in chosen)
    payer_w, factor, payer_rules, payer_reasons = run.payer_evidence(customer_id)
    score = _noisy_or([number_w, amount_w, payer_w]) * factor
    reasons = [h.reason for h in sorted(chosen, key=lambda h: _age(h.invoice))]
    agrees = amount_rule in ("exact_amount", "short_payment")
    if typo and not agrees:
        score = min(score, 0.5)
        reasons.append("A typo alone is not enough to apply automatically")
    elif typo and _amount_shared(run, customer_id, chosen):
        # the amount cannot tell a one-digit slip from the customer's other invoice of that amount
        score = min(score, 0.6)
        reasons.append("The customer has another open invoice of the same amount: the typo cannot tell which")
    elif amount_rule == "overpayment" and amount_w == 0.0:
        # much more than the named invoices: the rest probably pays invoices not named, so putting
        # it on account is a guess, never an automatic answer (issue 16: 4,500 + 4,500 on account)
        score = min(score, 0.6)
        reasons.append("Pays far more than the invoices named: the rest is probably for other invoices")
    elif not agrees and number_w < NUMBER_WEIGHT["year"]:
        score = min(score, 0.85)
    rules = ["invoice_number_typo" if any(h.key.variant for h in chosen) else "invoice_number", amount_rule,
             *payer_rules]
    run.candidates.append(_Candidate(
        customer_id, allocations, score, rules, [*reasons, amount_reason, *payer_reasons],
        on_account=on_account, short=short, amount_agrees=agrees))


_CUT_TAIL = re.compile(r"(?<![0-9])(?P<year>20\d{2})[-_/. ]?(?P<seq>\d{1,5})$")


def _cut_tail_hits(run: _Run) -> list[_Hit]:
    """Invoices of the identified payer (only: a few digits are no proof elsewhere) whose number
    begins as the reference the bank cut at its end ("DE-RE-2026-0001" of DE-RE-2026-000123)."""
    tail = "".join(run.receipt.cut_tail.split()).upper()
    strong = run.payer.strong
    m = _CUT_TAIL.search(tail)
    if not tail or strong is None or m is None:
        return []
    year, digits = int(m["year"]), m["seq"]
    key = NumberKey(sequence=0, year=year, raw=run.receipt.cut_tail, form="keyword", digits=digits)
    hits = []
    for inv in _clean(run.book.open_invoices(strong.customer_id, run.receipt.legal_entity_id,
                                             run.receipt.currency), run.receipt.currency):
        parsed = parse_invoice_number(inv.number)
        if parsed and parsed[1] == year and (f"{parsed[2]:06d}".startswith(digits) or str(parsed[2]).startswith(digits)):
            hits.append(_Hit(inv, dataclasses.replace(key, sequence=parsed[2]), NUMBER_WEIGHT["keyword"],
                             f"Remittance cut by the bank at '{run.receipt.cut_tail}': the beginning of {inv.number}, "
                             "an open invoice of the identified payer"))
    return hits if len(hits) <= 12 else []


def _complete(run: _Run, customer_id: int, named: list[OpenInvoice], rest: Decimal
              ) -> tuple[list[OpenInvoice], float, str] | None:
    """Rule 1 with 3: the payer named some invoices and paid more. The rest completed by the fewest
    of the same customer's other open items that sum to it exactly (bounded: the 200 due nearest
    the payment), with how sure that is (1.0 one answer, 0.75 the search bounded, 0.55 two answers)
    and why. None when nothing sums to the rest."""
    ids = {inv.id for inv in named}
    fetched = run.book.open_invoices(customer_id, run.receipt.legal_entity_id, run.receipt.currency)
    others = [inv for inv in _clean(fetched, run.receipt.currency) if inv.id not in ids and inv.open_amount <= rest]
    if not others:
        return None
    singles = [inv for inv in others if inv.open_amount == rest]
    what = f"the rest of {run.money(rest)} is"
    if singles:
        singles.sort(key=_age)
        if len(singles) > 1:
            return singles[:1], 0.55, f"{what} the open amount of {len(singles)} other invoices: the oldest, ambiguous"
        return singles, 1.0, f"{what} the open amount of {singles[0].number}, not named"
    value_date = run.receipt.value_date
    cap = run.policy.max_combination_candidates
    pool = sorted(others, key=lambda i: (abs((i.due_date - value_date).days), _age(i)))[:cap]
    slots = run.policy.max_combination_invoices - len(named)
    if len(pool) < 2 or slots < 2:
        return None
    result, wider = fewest_subsets([run.cents(i.open_amount) for i in pool], run.cents(rest),
                                   max_items=min(slots, 4), budget=5_000)
    if not result.solutions:
        return None
    chosen = [pool[i] for i in result.solutions[0]]
    listed = ", ".join(i.number for i in sorted(chosen, key=_age))
    if len(result.solutions) > 1 or wider:
        return chosen, 0.55, f"{what} {len(chosen)} other invoices ({listed}), but other combinations fit too"
    bounded = result.budget_hit or len(others) > cap or len(fetched) >= 200
    if bounded:
        return chosen, 0.75, f"{what} {len(chosen)} other invoices ({listed}); the search was bounded"
    return chosen, 1.0, f"{what} {len(chosen)} other invoices of the payer, not named ({listed})"


def _round_rest(rest: Decimal) -> bool:
    return rest > 0 and rest % 10 == 0


def _amount_shared(run: _Run, customer_id: int, chosen: list[_Hit]) -> bool:
    """Another open invoice of the customer has the open amount of one chosen by a typo."""
    ids = {h.invoice.id for h in chosen}
    amounts = {h.invoice.open_amount for h in chosen}
    others = run.book.open_invoices(customer_id, run.receipt.legal_entity_id, run.receipt.currency)
    return any(inv.id not in ids and inv.open_amount in amounts for inv in others)


def _by_amount(run: _Run, who: Identified, open_invoices: list[OpenInvoice], truncated: bool) -> None:
    """Rules 2, 3 and 5 for an identified customer: exact amount, combination, short, over, oldest first."""
    amount, c = run.amount, who.confidence
    invoices = sorted(open_invoices, key=_age)
    cid = who.customer_id
    more = f" (only the {len(invoices)} oldest open invoices were searched)" if truncated else ""

    def add(allocs: list[Allocation], choice: float, rules: list[str], reasons: list[str], **extra) -> None:
        run.candidates.append(_Candidate(cid, allocs, c * choice, [*rules, who.rule], [*reasons, who.reason], **extra))

    def full(invs: list[OpenInvoice]) -> list[Allocation]:
        return [Allocation(i.id, i.number, i.open_amount) for i in sorted(invs, key=_age)]

    exact = [i for i in invoices if i.open_amount == amount]
    if len(exact) == 1:
        add(full(exact), 0.9 if truncated else 0.97, ["exact_amount"],
            [f"Amount {run.money(amount)} equals the open amount of {exact[0].number}, "
             f"the only open invoice of that amount{more}"], amount_agrees=True)
        return
    if len(exact) > 1:
        numbers = ", ".join(i.number for i in exact[:4])
        add(full(exact[:1]), 0.5, ["exact_amount_ambiguous"],
            [f"{len(exact)} open invoices of {run.money(amount)} ({numbers}): oldest first, ambiguous"],
            amount_agrees=True)
        return
    balance = sum((i.open_amount for i in invoices), ZERO)
    if balance == amount and len(invoices) > 1 and not truncated:
        add(full(invoices), 0.95, ["whole_balance"],
            [f"Pays the whole open balance: {len(invoices)} invoices sum to {run.money(amount)}"], amount_agrees=True)
        return
    eligible = [i for i in invoices if i.open_amount < amount]
    cap = run.policy.max_combination_candidates
    # a lump usually pays what fell due around the payment: nearest due date first, so the first
    # combination found is the one closest in time (the tie-breaker), and the search stays bounded
    value_date = run.receipt.value_date
    pool = sorted(eligible, key=lambda i: (abs((i.due_date - value_date).days), _age(i)))[:cap]
    if len(pool) >= 2:
        # fewest invoices first (a payer pays two or three invoices far more often than six, and with
        # many open items some six always add up to any amount): the smallest size with an answer
        # decides; two answers of that size are ambiguous
        cents = [run.cents(i.open_amount) for i in pool]
        share = run.policy.combination_budget // max(run.policy.max_combination_invoices - 3, 1)
        result, wider = fewest_subsets(cents, run.cents(amount), max_items=run.policy.max_combination_invoices,
                                       budget=share)
        budget_hit = result.budget_hit
        if wider:
            result = SubsetResult((*result.solutions, ()), budget_hit)  # one more invoice fits as well
        if result is not None and result.solutions:
            chosen = [pool[i] for i in result.solutions[0]]
            bounded = len(eligible) > cap or budget_hit or truncated
            if len(result.solutions) > 1:
                choice, note = 0.55, "; another combination sums to the same amount: the nearest due chosen, ambiguous"
            elif bounded:
                choice, note = 0.75, f"; search bounded to the {len(pool)} invoices due nearest, another may exist"
            else:
                choice, note = 0.95, ""
            add(full(chosen), choice, ["combination"],
                [f"{len(chosen)} invoices sum to {run.money(amount)} "
                 f"({', '.join(i.number for i in sorted(chosen, key=_age))}){note}"], amount_agrees=True)
            return
    shorts = [i for i in invoices if ZERO < i.open_amount - amount <= run.tolerance(i.open_amount)]
    if shorts:
        best = min(shorts, key=lambda i: (i.open_amount - amount, _age(i)))
        short = best.open_amount - amount
        add([Allocation(best.id, best.number, amount)], 0.85 if len(shorts) == 1 else 0.45, ["short_payment"],
            [f"Short by {run.money(short)} on {best.number} ({run.money(best.open_amount)}, within tolerance "
             f"{run.money(run.tolerance(best.open_amount))})"
             + ("" if len(shorts) == 1 else f"; {len(shorts)} invoices are that close, ambiguous")],
            short=short, amount_agrees=True)
        return
    allocations, left = run.allocate_oldest_first(invoices)
    if left > 0 and not truncated:
        add(allocations, 0.6, ["overpayment"],
            [f"Pays the whole open balance of {run.money(balance)} and {run.money(left)} more: the rest goes on account"],
            on_account=left)
        return
    if allocations:
        add(allocations, 0.3, ["oldest_first"],
            [f"No invoice or combination matches {run.money(amount)}: oldest open invoices first"],
            on_account=max(left, ZERO))


# --------------------------------------------------------------------------------------------------
# the pipeline


def match(receipt: ReceiptFacts, book: Book, policy: MatchPolicy = MatchPolicy()) -> list[Suggestion]:  # noqa: B008
    """Ranked suggestions for placing `receipt`, best first; [] when nothing is plausible.

    The caller applies the first automatically when its score reaches ``policy.auto_apply_threshold``.
    """
    return match_and_identify(receipt, book, policy)[0]


def match_and_identify(receipt: ReceiptFacts, book: Book, policy: MatchPolicy = MatchPolicy()  # noqa: B008
                       ) -> tuple[list[Suggestion], Identified | None]:
    """`match`, and the payer identified with confidence (>= 0.9), if any."""
    amount = quantize(receipt.amount, receipt.currency)
    if amount <= 0:
        return [], None
    run = _Run(receipt, book, policy, amount, identify_payer(receipt, book))
    return _match(run), run.payer.strong


def _match(run: _Run) -> list[Suggestion]:
    receipt, book, amount = run.receipt, run.book, run.amount
    entity, currency = receipt.legal_entity_id, receipt.currency

    # 1. invoice numbers as written, then one-edit typos of them when nothing agreed with the amount
    keys = extract_invoice_numbers(receipt.remittance)
    seen: set[int] = set()
    # open items without invoices (opening balances "LEG-C00042-1", manual debits): named as written
    finder = getattr(book, "items_by_text", None)
    item_hits = [_Hit(item, NumberKey(sequence=item.id, raw=item.number), NUMBER_WEIGHT["full"],
                      f"Remittance names open item {item.number}")
                 for item in _clean(finder(entity, currency, receipt.remittance) if finder else [], currency)
                 if item.legal_entity_id == entity]
    tail_hits = _cut_tail_hits(run)
    if keys or item_hits or tail_hits:
        hits = (_number_hits(run, keys, book.invoices_by_numbers(entity, currency, keys)) if keys else []) + item_hits
        hits += [h for h in tail_hits if h.invoice.id not in {x.invoice.id for x in hits}]
        seen = {h.invoice.id for h in hits}
        _by_numbers(run, hits, typo=False)
        if not any(c.amount_agrees for c in run.candidates):
            variants: list[NumberKey] = []
            for key in keys:
                if key.form != "bare":
                    variants += typo_variants(key)
            variants = variants[:MAX_VARIANT_KEYS]
            if variants:
                found = [inv for inv in book.invoices_by_numbers(entity, currency, variants) if inv.id not in seen]
                typo_hits = _number_hits(run, variants, found)
                if typo_hits:
                    # the named invoices of a customer stay in its pool: "INV 123, 152" for 123 + 125
                    named = [h for h in hits if h.invoice.customer_id in {t.invoice.customer_id for t in typo_hits}]
                    _by_numbers(run, typo_hits + named, typo=True)

    # 2, 3, 5. amounts against the customers the payer (or a named invoice) points at
    settled = {c.customer_id for c in run.candidates if c.amount_agrees and c.score >= 0.5}
    who: list[Identified] = [c for c in run.payer.candidates if c.confidence >= 0.3][:2]
    if not who:
        by_number: dict[int, float] = {}
        for cand in run.candidates:
            if cand.customer_id is not None:
                by_number[cand.customer_id] = max(by_number.get(cand.customer_id, 0.0), cand.score)
        who = [Identified(cid, round(conf * 0.8, 3), "customer_by_number",
                          "Customer of the invoice named in the remittance")
               for cid, conf in sorted(by_number.items(), key=lambda kv: -kv[1])[:2] if conf >= 0.5]
    mismatch: Identified | None = None
    for person in who:
        if person.customer_id in settled:
            continue
        limit = 200
        fetched = book.open_invoices(person.customer_id, entity, currency, limit=limit)
        open_invoices = _clean(fetched, currency)
        if not open_invoices:
            if mismatch is None and book.currency_mismatch(person.customer_id, entity, currency):
                mismatch = person
            continue
        _by_amount(run, person, open_invoices, truncated=len(fetched) >= limit)

    suggestions = _hard_rules(run, _rank(run))
    if mismatch is not None and not any(s.score >= 0.5 for s in suggestions):
        refused = Suggestion(
            mismatch.customer_id, (), ZERO, ZERO, 0.0, ("currency_mismatch", mismatch.rule),
            (f"Receipt in {currency}; the customer has open invoices only in other currencies: not matched",
             mismatch.reason), unapplied=amount)
        suggestions = [refused, *[s for s in suggestions if s.score > 0]][:MAX_SUGGESTIONS]
    return suggestions


def _rank(run: _Run) -> list[Suggestion]:
    merged: dict[tuple, _Candidate] = {}
    for cand in run.candidates:
        if not cand.allocations:
            continue
        old = merged.get(cand.key())
        if old is None:
            merged[cand.key()] = cand
            continue
        best, other = (cand, old) if cand.score > old.score else (old, cand)
        best.rules = list(dict.fromkeys([*best.rules, *other.rules]))
        best.reasons = list(dict.fromkeys([*best.reasons, *other.reasons]))
        merged[cand.key()] = best
    # an invoice the payer named ranks above a guess by amount alone (a short payment of another
    # invoice, oldest first) for the same customer: "808.05 named, 250.00 more" is not "1,070.77 short"
    named: dict[int | None, float] = {}
    for cand in merged.values():
        if "invoice_number" in cand.rules:
            named[cand.customer_id] = max(named.get(cand.customer_id, 0.0), cand.score)
    for cand in merged.values():
        if (cand.customer_id in named and "invoice_number" not in cand.rules
                and "invoice_number_typo" not in cand.rules
                and {"short_payment", "overpayment", "oldest_first"} & set(cand.rules)
                and cand.score >= named[cand.customer_id]):
            cand.score = max(named[cand.customer_id] - 0.01, 0.0)
            cand.reasons.append("Ranked below the invoices the payer named")
    ranked = sorted(merged.values(), key=lambda c: (-c.score, c.customer_id or 0))
    # a near-match reference (or one the amount does not agree with exactly) to another customer's invoice
    # than the identified payer's is no rival to the payer's own: the hard rules never let it be
    # applied, so it must not demote the right answer either. An exact reference with the exact
    # amount still is (a third party paying another customer's invoice): then a person chooses.
    strong = run.payer.strong
    group = _group(run.book, strong.customer_id) if strong is not None else None
    contenders = ranked
    if group is not None and ranked and ranked[0].customer_id in group:
        contenders = [c for c in ranked if c.customer_id is None or c.customer_id in group
                      or ("exact_amount" in c.rules and "invoice_number" in c.rules)]

    if len(contenders) > 1 and contenders[1].score >= RIVAL:  # two credible answers: neither is applied blindly
        first, second = contenders[0], contenders[1]
        s1, s2 = first.score, second.score
        for cand, rival, rival_score in ((first, second, s2), (second, first, s1)):
            cand.score *= 1 - (rival_score - 0.5)
            cand.reasons.append(
                f"Another suggestion scores {rival_score:.2f} "
                f"({', '.join(a.invoice_number for a in rival.allocations)}): a person should choose")
            cand.rules.append("competing_suggestion")
        ranked.sort(key=lambda c: (-c.score, c.customer_id or 0))
    out = []
    for cand in ranked[:MAX_SUGGESTIONS]:
        allocated = sum((a.amount for a in cand.allocations), ZERO)
        unapplied = run.amount - allocated - cand.on_account
        out.append(Suggestion(
            customer_id=cand.customer_id, allocations=tuple(cand.allocations), on_account=cand.on_account,
            short=cand.short, score=round(max(0.0, min(1.0, cand.score)), 3),
            rules=tuple(r for r in dict.fromkeys(cand.rules) if r), reasons=tuple(r for r in cand.reasons if r),
            unapplied=unapplied))
    return out



def _group(book: Book, customer_id: int) -> frozenset[int]:
    group_of = getattr(book, "group_of", None)
    return group_of(customer_id) if group_of is not None else frozenset({customer_id})


def _hard_rules(run: _Run, suggestions: list[Suggestion]) -> list[Suggestion]:
    """Never the wrong customer (docs/cash-application.md):

    * with the payer identified (account, alias, e-mail domain, exact or cut name; >= 0.9), a
      suggestion naming an invoice of a customer outside the payer's corporate group is never
      applied automatically and says so (``other_customer``);
    * a near-match reference (typo distance > 0) is applied automatically only when the payer is
      identified as that customer (or its group), and never ranks above an amount-and-payer match
      of another suggestion;
    * without an identified payer a near-match reference goes to a person.
    Blocked suggestions keep their order otherwise and are scored below the threshold."""
    if not suggestions:
        return suggestions
    strong = run.payer.strong
    group = _group(run.book, strong.customer_id) if strong is not None else frozenset()
    ceiling = min(run.policy.auto_apply_threshold, 0.9) - 0.01
    payer_matches = [s for s in suggestions if strong is not None and s.customer_id in group
                     and "invoice_number_typo" not in s.rules and s.allocations
                     and not {"overpayment", "partial_payment", "oldest_first"} & set(s.rules)]
    out = []
    for s in suggestions:
        notes: list[str] = []
        other = strong is not None and s.customer_id is not None and s.customer_id not in group
        typo = "invoice_number_typo" in s.rules
        score = s.score
        if other:
            notes.append("Names another customer's invoice than the payer's (identified: customer "
                         f"{strong.customer_id}): never applied automatically, confirm twice")
        if typo and (strong is None or other):
            notes.append("A near-match reference without the payer identified as this customer: a person decides")
        if typo and payer_matches and s not in payer_matches:
            best_other = max(p.score for p in payer_matches)
            score = min(score, best_other - 0.01)
            notes.append("An amount-and-payer match elsewhere outranks this near-match reference")
        if notes:
            score = min(score, ceiling)
            s = dataclasses.replace(s, score=round(max(score, 0.0), 3), auto=False, other_customer=other,
                                    reasons=(*s.reasons, *notes))
        out.append(s)
    return sorted(out, key=lambda x: (-x.score, x.customer_id or 0))
