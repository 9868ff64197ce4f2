"""Transactions and locks that are not row locks.

Slow outside work (rendering a PDF, talking to an SMTP server) never runs under a row lock: other
writers of the row (a payment applied to the invoice, a void) would wait for it, and a rollback
could not take back an e-mail anyway. Such work serialises on a *key* instead:

- `key_lock(key)`: a PostgreSQL transaction-level advisory lock on a text key, taken inside the
  caller's transaction and released at its end. Unlike a session-level advisory lock it is safe
  behind pgbouncer in transaction mode (DATABASE_POOL_MODE=transaction). It locks no row: other
  transactions read and write the document freely while it is held. On SQLite (development, the
  embedded default) it does nothing: SQLite runs one writer at a time anyway.
- `in_transaction()`: whether a real atomic block is open (a test case's wrapping block does not
  count), for services that must not be called inside one.
"""

from __future__ import annotations

import hashlib

from django.db import transaction


def _key_number(key: str) -> int:
    """A stable signed 64-bit number for `key` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def key_lock(key: str, *, using: str = "default") -> None:
    """Wait for, then hold until the end of the current transaction, the advisory lock on `key`."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        raise RuntimeError("key_lock() holds its lock until the transaction ends: call it inside transaction.atomic().")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key_number(key)])


def in_transaction(*, using: str = "default") -> bool:
    """Whether a real atomic block is open (the block a test case wraps each test in excluded)."""
    connection = transaction.get_connection(using)
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


__all__ = ["in_transaction", "key_lock"]
