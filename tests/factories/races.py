"""One helper for the thread races of the PostgreSQL tests: start every job at once (a barrier),
each on its own database connection, and collect what they returned and what they raised."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(jobs: list[Callable[[], Any]], *, timeout: float = 60) -> tuple[list[Any], list[BaseException]]:
    """Run the callables in threads released together; return (results, errors) in the order
    they finished. Each thread closes its connection, so the test's flush is not blocked."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            result = job()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
