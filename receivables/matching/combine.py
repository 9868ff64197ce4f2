"""Bounded subset-sum over open invoices, in integer minor units.

Depth-first over the candidates in the order given (oldest first), so the first combination found
prefers the oldest invoices. Pruned by the running sum (amounts are positive) and by what the
remaining candidates can still add; a node budget bounds the work whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubsetResult:
    solutions: tuple[tuple[int, ...], ...]  # indexes into the candidates, each ascending
    budget_hit: bool  # the node budget ran out: another combination may exist unseen


def subset_sums(amounts: list[int], target: int, *, max_items: int, max_solutions: int = 2,
                budget: int = 20_000) -> SubsetResult:
    n = len(amounts)
    if target <= 0 or n == 0 or max_items <= 0:
        return SubsetResult((), False)
    # suffix[i]: sorted amounts from i on, largest first, to bound what k more items can add
    suffix_best: list[list[int]] = [[] for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        suffix_best[i] = sorted(amounts[i:], reverse=True)[:max_items]
    suffix_min = [0] * (n + 1)
    running = None
    for i in range(n - 1, -1, -1):
        running = amounts[i] if running is None else min(running, amounts[i])
        suffix_min[i] = running
    solutions: list[tuple[int, ...]] = []
    nodes = 0
    chosen: list[int] = []

    def dfs(start: int, remaining: int) -> bool:  # True: stop (enough solutions or budget spent)
        nonlocal nodes
        slots = max_items - len(chosen)
        if slots == 0 or start >= n or remaining < suffix_min[start]:
            return False
        if sum(suffix_best[start][:slots]) < remaining:
            return False
        for i in range(start, n):
            nodes += 1
            if nodes > budget:
                return True
            a = amounts[i]
            if a > remaining:
                continue
            chosen.append(i)
            if a == remaining:
                solutions.append(tuple(chosen))
                chosen.pop()
                if len(solutions) >= max_solutions:
                    return True
                continue
            if dfs(i + 1, remaining - a):
                chosen.pop()
                return True
            chosen.pop()
        return False

    dfs(0, target)
    return SubsetResult(tuple(solutions), budget_hit=nodes > budget)
