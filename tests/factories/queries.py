"""Query budgets, measured one way: how many queries one GET makes. A list page or endpoint's test
compares the count before and after adding rows (it must not grow), or against an exact budget."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_for(client: Any, url: str, data: dict | None = None, *, warm: bool = False, status: int = 200) -> int:
    """The number of queries of one GET of `url` (with the query parameters `data`) through `client`
    (a test or API client), which must answer `status`. `warm`: one unmeasured GET first, so
    process-wide caches (content types, permissions) do not count."""
    if warm:
        client.get(url, data)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, data)
    assert response.status_code == status, (url, response.status_code)
    return len(ctx.captured_queries)
