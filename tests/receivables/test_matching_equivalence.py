"""Session 9 made parts of the matcher faster without changing a result: each faster form is checked
here against the plain one it replaced, kept as the reference. The subset search's last slot (same
solutions, same budget hit) and the customers a name stem begins (same customers, same order)."""

from __future__ import annotations

import random

from receivables.matching.combine import SubsetResult, subset_sums
from receivables.matching.names import NameIndex
from receivables.matching.payer import stem_family


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


def reference_stem_family(normalized: str, names: NameIndex) -> list[int]:
    """`stem_family` before session 9: every customer's name split and compared."""
    words = normalized.split()
    if not words or len(normalized) >= 8 or len(normalized.replace(" ", "")) < 3:
        return []
    head, last = words[:-1], words[-1]
    return sorted(cid for cid, name in names.by_id.items()
                  if (target := name.split()) and len(target) >= len(words) and target[:len(head)] == head
                  and target[len(head)].startswith(last))


def test_stem_family_equals_comparing_every_name():
    # given customers with names made of a few short words, many sharing their beginnings
    rng = random.Random(9)
    syllables = ["gre", "green", "gregor", "van", "vandam", "de", "al", "alpha", "a", "b", "wil", "will", "zz", "9"]
    names = NameIndex([(cid, " ".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) + " GmbH")
                       for cid in rng.sample(range(1, 5_000), 600)])
    stems = {" ".join(words) for _ in range(3_000)
             for words in [[rng.choice(syllables)[:rng.randint(1, 6)] for _ in range(rng.randint(1, 3))]]}
    # when the stems are looked up, then the customers are those (and in the order) the plain loop finds
    assert any(reference_stem_family(stem, names) for stem in stems)
    for stem in stems:
        assert stem_family(stem, names) == reference_stem_family(stem, names), stem
