"""The subset search's faster last slot (session 9) finds the same solutions and hits the same budget
as the plain depth-first loop it replaced, kept here as the reference."""

from __future__ import annotations

import random

from receivables.matching.combine import SubsetResult, subset_sums


def reference_subset_sums(amounts: list[int], target: int, *, max_items: int, max_solutions: int = 2,
                          budget: int = 20_000) -> SubsetResult:
    """The search as it was before session 9: every node looped over, the last slot too."""
    n = len(amounts)
    if target <= 0 or n == 0 or max_items <= 0:
        return SubsetResult((), False)
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

    def dfs(start: int, remaining: int) -> bool:
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


def test_subset_sums_equals_the_plain_search_on_random_cases():
    # given many random searches, small amounts (many answers) and budgets at every size
    rng = random.Random(13)
    for case in range(6_000):
        n = rng.randint(0, 30)
        top = rng.choice([5, 20, 100, 5_000])
        amounts = [rng.randint(1, top) for _ in range(n)]
        picked = rng.sample(range(n), k=min(n, rng.randint(1, 5))) if n else []
        target = sum(amounts[i] for i in picked) + rng.choice([0, 0, 0, 1, -1])
        kwargs = {"max_items": rng.randint(0, 6), "max_solutions": rng.randint(1, 3),
                  "budget": rng.choice([1, 2, 5, 17, 60, 200, 1_000, 5_000, 20_000])}
        # when the search runs, then it finds what the reference finds, in the same order, same budget hit
        assert subset_sums(amounts, target, **kwargs) == reference_subset_sums(amounts, target, **kwargs), (
            case, amounts, target, kwargs)
