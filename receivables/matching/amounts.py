"""Rules 2, 3 and 5: a receipt placed by its amount among an identified customer's open invoices."""

from __future__ import annotations

from .combine import SubsetResult, fewest_subsets
from .common import age
from .payer import Identified
from .run import Candidate, Run
from .types import ZERO, Allocation, OpenInvoice


def by_amount(run: Run, who: Identified, open_invoices: list[OpenInvoice], truncated: bool) -> None:
    """Rules 2, 3 and 5 for an identified customer: exact amount, combination, short, over, oldest first."""
    amount, c = run.amount, who.confidence
    invoices = sorted(open_invoices, key=age)
    cid = who.customer_id
    more = f" (only the {len(invoices)} oldest open invoices were searched)" if truncated else ""

    def add(allocs: list[Allocation], choice: float, rules: list[str], reasons: list[str], **extra) -> None:
        run.candidates.append(Candidate(cid, allocs, c * choice, [*rules, who.rule], [*reasons, who.reason], **extra))

    def full(invs: list[OpenInvoice]) -> list[Allocation]:
        return [Allocation(i.id, i.number, i.open_amount) for i in sorted(invs, key=age)]

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
    pool = sorted(eligible, key=lambda i: (abs((i.due_date - value_date).days), age(i)))[:cap]
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
                 f"({', '.join(i.number for i in sorted(chosen, key=age))}){note}"], amount_agrees=True)
            return
    shorts = [i for i in invoices if ZERO < i.open_amount - amount <= run.tolerance(i.open_amount)]
    if shorts:
        best = min(shorts, key=lambda i: (i.open_amount - amount, age(i)))
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
