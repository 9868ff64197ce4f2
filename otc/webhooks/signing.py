"""The `OTC-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

During a secret rotation's overlap the header carries one `v1=` per valid secret (new first), so
a receiver holding either secret accepts the message. Receivers should refuse a timestamp older
than a few minutes (replayed captures). docs/crm_client.py holds the same check for receivers."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "OTC-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={stamp}", *(f"v1={signature(s, stamp, body)}" for s in secrets if s)])


def verify(header: str, body: bytes, secret: str, *, tolerance: int = TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """True when `header` carries a valid v1 signature of `body` under `secret` within `tolerance`."""
    stamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            stamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if stamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = signature(secret, stamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
