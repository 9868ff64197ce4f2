"""Rule 1: invoices (and other open items) the remittance names, as written or with a one-digit
typo, shaped by the amount: exact, a subset, short within tolerance, over, partial, or the named
invoices completed by the payer's other open items."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from .combine import fewest_subsets, subset_sums
from .common import (
    AMOUNT_EXACT,
    AMOUNT_EXACT_AMBIGUOUS,
    AMOUNT_OVER,
    AMOUNT_SHORT,
    FOREIGN_PREFIX_WEIGHT,
    NUMBER_WEIGHT,
    STRONG_ID,
    TYPO_KEEP,
    age,
    clean_invoices,
    noisy_or,
)
from .numbers import parse_invoice_number, sequence_distance
from .run import Candidate, Hit, Run
from .types import ZERO, Allocation, NumberKey, OpenInvoice


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


def number_hits(run: Run, keys: list[NumberKey], invoices: list[OpenInvoice]) -> list[Hit]:
    by_seq: dict[int, list[NumberKey]] = {}
    for key in keys:
        by_seq.setdefault(key.sequence, []).append(key)
    hits: dict[int, Hit] = {}
    for inv in clean_invoices(invoices, run.receipt.currency):
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
                hits[inv.id] = Hit(inv, key, weight, reason)
    return list(hits.values())


def by_numbers(run: Run, hits: list[Hit], *, typo: bool) -> None:
    """Rule 1 (with 5): invoices named in the remittance, grouped by customer, shaped by the amount."""
    groups: dict[int, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.invoice.customer_id, []).append(hit)
    # typo candidates hit many customers (with dense numbering almost every one-edit variant is someone's
    # invoice): those the payer points at first, then those with an invoice of the amount (or short of it
    # within the tolerance), so that the bound below never drops the one the amount agrees with
    def fits(group: list[Hit]) -> bool:
        return any(ZERO <= h.invoice.open_amount - run.amount <= run.tolerance(h.invoice.open_amount) for h in group)

    ranked = sorted(groups.items(), key=lambda kv: (-run.payer_evidence(kv[0])[0], not fits(kv[1]),
                                                    -max(h.weight for h in kv[1])))
    ranked = ranked[:20]
    for customer_id, group in ranked:
        group = sorted(group, key=lambda h: (-h.weight, age(h.invoice)))[:12]
        _number_candidate(run, customer_id, group, typo=typo)


def _number_candidate(run: Run, customer_id: int, group: list[Hit], *, typo: bool) -> None:
    amount = run.amount
    invoices = [h.invoice for h in group]
    one_per_key = len({(h.key.year, h.key.sequence, h.key.variant) for h in group}) == len(group) and not typo
    total = sum((inv.open_amount for inv in invoices), ZERO)
    chosen: list[Hit] = []
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
                       sorted(chosen, key=lambda h: age(h.invoice))]
        if not amount_reason:
            amount_reason = (f"Amount {run.money(amount)} equals the open amount" if len(chosen) == 1 else
                             f"{len(chosen)} invoices sum to {run.money(amount)}")
    else:
        # short within tolerance: all named invoices, else the single closest one
        options = ([invoices] if one_per_key else []) + [[inv] for inv in sorted(
            invoices, key=lambda i: (abs(i.open_amount - amount), age(i)))]
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
                           for inv in sorted([*option, *extra], key=age)]
            number_w = min(h.weight for h in chosen)
            payer_w, factor, payer_rules, payer_reasons = run.payer_evidence(customer_id)
            score = noisy_or([number_w, AMOUNT_EXACT, payer_w]) * factor * choice
            reasons = [h.reason for h in sorted(chosen, key=lambda h: age(h.invoice))]
            reasons.append(f"Pays {run.money(due)} named and {note}")
            if payer_w < 0.9 * STRONG_ID:  # the customer known only from the numbers: a person confirms
                score = min(score, 0.85)
                reasons.append("The payer is not identified: the completion is only a suggestion")
            if _round_rest(left):  # 1,000.00 more is as likely a prepayment as a fee invoice of 1,000.00
                score = min(score, 0.85)
                reasons.append(f"A round rest ({run.money(left)}) may as well be money on account: a person decides")
            run.candidates.append(Candidate(
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
    score = noisy_or([number_w, amount_w, payer_w]) * factor
    reasons = [h.reason for h in sorted(chosen, key=lambda h: age(h.invoice))]
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
    run.candidates.append(Candidate(
        customer_id, allocations, score, rules, [*reasons, amount_reason, *payer_reasons],
        on_account=on_account, short=short, amount_agrees=agrees))


_CUT_TAIL = re.compile(r"(?<![0-9])(?P<year>20\d{2})[-_/. ]?(?P<seq>\d{1,5})$")


def cut_tail_hits(run: Run) -> list[Hit]:
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
    for inv in clean_invoices(run.book.open_invoices(strong.customer_id, run.receipt.legal_entity_id,
                                             run.receipt.currency), run.receipt.currency):
        parsed = parse_invoice_number(inv.number)
        if parsed and parsed[1] == year and (f"{parsed[2]:06d}".startswith(digits) or str(parsed[2]).startswith(digits)):
            hits.append(Hit(inv, dataclasses.replace(key, sequence=parsed[2]), NUMBER_WEIGHT["keyword"],
                             f"Remittance cut by the bank at '{run.receipt.cut_tail}': the beginning of {inv.number}, "
                             "an open invoice of the identified payer"))
    return hits if len(hits) <= 12 else []


def _complete(run: Run, customer_id: int, named: list[OpenInvoice], rest: Decimal
              ) -> tuple[list[OpenInvoice], float, str] | None:
    """Rule 1 with 3: the payer named some invoices and paid more. The rest completed by the fewest
    of the same customer's other open items that sum to it exactly (bounded: the 200 due nearest
    the payment), with how sure that is (1.0 one answer, 0.75 the search bounded, 0.55 two answers)
    and why. None when nothing sums to the rest."""
    ids = {inv.id for inv in named}
    fetched = run.book.open_invoices(customer_id, run.receipt.legal_entity_id, run.receipt.currency)
    others = [inv for inv in clean_invoices(fetched, run.receipt.currency) if inv.id not in ids and inv.open_amount <= rest]
    if not others:
        return None
    singles = [inv for inv in others if inv.open_amount == rest]
    what = f"the rest of {run.money(rest)} is"
    if singles:
        singles.sort(key=age)
        if len(singles) > 1:
            return singles[:1], 0.55, f"{what} the open amount of {len(singles)} other invoices: the oldest, ambiguous"
        return singles, 1.0, f"{what} the open amount of {singles[0].number}, not named"
    value_date = run.receipt.value_date
    cap = run.policy.max_combination_candidates
    pool = sorted(others, key=lambda i: (abs((i.due_date - value_date).days), age(i)))[:cap]
    slots = run.policy.max_combination_invoices - len(named)
    if len(pool) < 2 or slots < 2:
        return None
    result, wider = fewest_subsets([run.cents(i.open_amount) for i in pool], run.cents(rest),
                                   max_items=min(slots, 4), budget=5_000)
    if not result.solutions:
        return None
    chosen = [pool[i] for i in result.solutions[0]]
    listed = ", ".join(i.number for i in sorted(chosen, key=age))
    if len(result.solutions) > 1 or wider:
        return chosen, 0.55, f"{what} {len(chosen)} other invoices ({listed}), but other combinations fit too"
    bounded = result.budget_hit or len(others) > cap or len(fetched) >= 200
    if bounded:
        return chosen, 0.75, f"{what} {len(chosen)} other invoices ({listed}); the search was bounded"
    return chosen, 1.0, f"{what} {len(chosen)} other invoices of the payer, not named ({listed})"


def _round_rest(rest: Decimal) -> bool:
    return rest > 0 and rest % 10 == 0


def _amount_shared(run: Run, customer_id: int, chosen: list[Hit]) -> bool:
    """Another open invoice of the customer has the open amount of one chosen by a typo."""
    ids = {h.invoice.id for h in chosen}
    amounts = {h.invoice.open_amount for h in chosen}
    others = run.book.open_invoices(customer_id, run.receipt.legal_entity_id, run.receipt.currency)
    return any(inv.id not in ids and inv.open_amount in amounts for inv in others)
