"""One psycopg2 connection to the bench database and the CPU its PostgreSQL backend has used,
for the benches that time the database's own work (invoice_row_writes.py, invoice_one_write.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import psycopg2

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/otc_bench"


def connect() -> tuple[Any, Any, Callable[[], float]]:
    """The connection to DATABASE_URL (default: otc_bench), a cursor, and a function returning the
    CPU seconds (user + system) its backend has used so far (the server runs on this machine)."""
    url = urlparse(os.environ.get("DATABASE_URL", DEFAULT_URL))
    conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username, password=url.password,
                            dbname=url.path.lstrip("/"))
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]

    def cpu() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return conn, cur, cpu
