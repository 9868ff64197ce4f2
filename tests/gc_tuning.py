"""Garbage-collector settings for the test processes (decision 0018, session 14).

CPython's cyclic collector runs a young-generation pass every 700 allocations and, now and then,
a full pass over every object the process holds: Django's models, URL patterns, templates and
every imported module. A test worker spent about 7% of its CPU there (3,000 passes over a
600-test slice of the suite). `tune()` moves everything alive at start-up into the permanent
generation (`gc.freeze()`: no pass looks at it again) and makes the passes rarer; cyclic garbage
is still collected, with a bounded delay (peak memory about a tenth higher).

Not used by the Celery workers: a month-end chunk's worker spent about 0.1 s in the collector
(bench/billing_run.py, 20,000 contracts), almost all of it while importing at start-up.
"""

from __future__ import annotations

import gc

# A young pass every 20,000 allocations (default 700), a middle pass every 20 young ones (10),
# a full pass every 50 middle ones (10).
THRESHOLDS = (20_000, 20, 50)


def tune(thresholds: tuple[int, int, int] = THRESHOLDS) -> None:
    """Freeze what is alive now and raise the thresholds (once the tests are collected)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
