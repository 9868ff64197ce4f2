"""Bounded subset-sum over open invoices, in integer minor units.

Depth-first over the candidates in the order given (oldest first), so the first combination found
prefers the oldest invoices. Pruned by the running sum (amounts are positive) and by what the
remaining candidates can still add; a node budget bounds the work whatever the data.
"""

from __future__ import annotations

from bisect import bisect_left
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
    # tops[i][k]: the sum of the k largest amounts from i on, to bound what k more items can add
    tops: list[list[int]] = [[0]] * (n + 1)
    best: list[int] = []
    for i in range(n - 1, -1, -1):
        best = sorted([amounts[i], *best], reverse=True)[:max_items]
        running, sums = 0, [0]
        for a in best:
            running += a
            sums.append(running)
        tops[i] = sums
    suffix_min = [0] * (n + 1)
    low = None
    for i in range(n - 1, -1, -1):
        low = amounts[i] if low is None else min(low, amounts[i])
        suffix_min[i] = low
    where: dict[int, list[int]] = {}  # amount -> its indexes, ascending (the last item is looked up)
    for index, amount in enumerate(amounts):
        where.setdefault(amount, []).append(index)
    solutions: list[tuple[int, ...]] = []
    nodes = 0
    chosen: list[int] = []

    # Every candidate looked at in a loop is one node of the budget, also one too large to take. The
    # last slot is not looped over: its nodes are counted by position and the items equal to what
    # remains found by lookup, which visits the same nodes in the same order (same solutions, same
    # budget hit) as the loop did.
    def dfs(start: int, remaining: int) -> bool:  # True: stop (enough solutions or budget spent)
        nonlocal nodes
        slots = max_items - len(chosen)
        if slots == 0 or start >= n or remaining < suffix_min[start]:
            return False
        sums = tops[start]
        if sums[min(slots, len(sums) - 1)] < remaining:
            return False
        if slots == 1:
            positions = where.get(remaining)
            if positions:
                for p in positions[bisect_left(positions, start):]:
                    reached = nodes + p - start + 1
                    if reached > budget:
                        nodes = reached
                        return True
                    solutions.append((*chosen, p))
                    if len(solutions) >= max_solutions:
                        nodes = reached
                        return True
            nodes += n - start
            return nodes > budget
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
            if dfs(i + 1, remaining - a):  # noqa: F821 (deleted after the search, below)
                chosen.pop()
                return True
            chosen.pop()
        return False

    dfs(0, target)
    del dfs  # the recursive closure refers to itself: without this only the cyclic collector frees the search
    return SubsetResult(tuple(solutions), budget_hit=nodes > budget)


def fewest_subsets(amounts: list[int], target: int, *, max_items: int, budget: int = 20_000) -> tuple[SubsetResult, bool]:
    """The subsets of two or more amounts summing to `target` with the fewest items (at most two of
    them, in the order of the candidates: the first uses the earliest ones), and whether a subset
    with one item more fits as well (then the answer is ambiguous). Two and three items are searched
    completely by hashing (linear and quadratic in the candidates); four and more depth-first within
    `budget` nodes, which ``budget_hit`` reports."""
    n = len(amounts)
    if target <= 0 or n < 2 or max_items < 2:
        return SubsetResult((), False), False
    where: dict[int, list[int]] = {}
    for index, amount in enumerate(amounts):
        where.setdefault(amount, []).append(index)

    def pairs(limit: int) -> list[tuple[int, ...]]:
        found: list[tuple[int, ...]] = []
        for j, amount in enumerate(amounts):
            for i in where.get(target - amount, ()):
                if i >= j:
                    break
                found.append((i, j))
                if len(found) >= limit:
                    return found
        return found

    def triples(limit: int) -> list[tuple[int, ...]]:
        found: list[tuple[int, ...]] = []
        for k in range(2, n):
            rest = target - amounts[k]
            if rest <= 0:
                continue
            for j in range(1, k):
                for i in where.get(rest - amounts[j], ()):
                    if i >= j:
                        break
                    found.append((i, j, k))
                    if len(found) >= limit:
                        return found
        return found

    two = pairs(2)
    if two:
        return SubsetResult(tuple(two), False), len(two) == 1 and max_items >= 3 and bool(triples(1))
    if max_items < 3:
        return SubsetResult((), False), False
    three = triples(2)
    if three:
        wider = False
        if len(three) == 1 and max_items >= 4:
            wider = any(len(s) == 4 for s in subset_sums(amounts, target, max_items=4, max_solutions=2,
                                                         budget=budget).solutions)
        return SubsetResult(tuple(three), False), wider
    hit = False
    for size in range(4, max_items + 1):
        result = subset_sums(amounts, target, max_items=size, max_solutions=2, budget=budget)
        hit = result.budget_hit
        if result.solutions:
            wider = False
            if len(result.solutions) == 1 and size < max_items and not hit:
                wider = len(subset_sums(amounts, target, max_items=size + 1, max_solutions=2,
                                        budget=budget).solutions) > 1
            return SubsetResult(result.solutions, hit), wider
        if hit:
            break
    return SubsetResult((), hit), False
