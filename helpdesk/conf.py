"""Help-desk settings with their defaults (override any of them in Django settings)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # A resolved ticket reopens when the requester replies within this many days; later it is closed.
    "HELPDESK_REOPEN_DAYS": 7,
    # Inbound mail from an address that is no user: "hold" (kept for an agent) or "refuse".
    "HELPDESK_UNKNOWN_SENDER": "hold",
    # A reply to a closed ticket: "follow_up" (a new ticket linked to it) or "refuse".
    "HELPDESK_CLOSED_REPLY": "follow_up",
    "HELPDESK_ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "HELPDESK_ATTACHMENT_TYPES": [
        "application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv", "message/rfc822",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
    "HELPDESK_ATTACHMENT_EXTENSIONS": [".pdf", ".png", ".jpg", ".jpeg", ".txt", ".csv", ".eml", ".xlsx", ".docx"],
    # Inbound webhook: how far the signed timestamp may be from now (replays are refused).
    "HELPDESK_INBOUND_MAX_AGE_SECONDS": 15 * 60,
    # Priority: amounts at or above this (in the document currency) raise the priority one step.
    "HELPDESK_LARGE_AMOUNT": "10000",
    # Customers with a credit limit at or above this are "large": one step up.
    "HELPDESK_LARGE_CUSTOMER_LIMIT": "100000",
    "HELPDESK_MAIL_DOMAIN": "otc.example",
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
