"""Ranking the candidates into suggestions, and the hard rules that keep the wrong customer's
invoice from ever being applied automatically (docs/cash-application.md)."""

from __future__ import annotations

import dataclasses

from .common import MAX_SUGGESTIONS, RIVAL, corporate_group
from .run import Candidate, Run
from .types import ZERO, Suggestion


def rank(run: Run) -> list[Suggestion]:
    merged: dict[tuple, Candidate] = {}
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
    group = corporate_group(run.book, strong.customer_id) if strong is not None else None
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
        # the doubt is about applying either blindly, not about their order: a weaker third answer
        # does not climb above the two (a short payment of another near-match above the exact amount)
        floor = min(first.score, second.score) - 0.01
        for cand in ranked:
            if cand is not first and cand is not second and cand.score <= s2 and cand.score > floor:
                cand.score = max(floor, 0.0)
                cand.reasons.append("Ranked below the two competing suggestions")
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


def hard_rules(run: Run, suggestions: list[Suggestion]) -> list[Suggestion]:
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
    group = corporate_group(run.book, strong.customer_id) if strong is not None else frozenset()
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
