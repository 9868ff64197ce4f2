"""Serving stored documents: the bytes only after their SHA-256 matched (billing.integrity).

A mismatch is an incident: the integrity check has logged the alert; the response is a 500 that
says so, and never carries the altered bytes."""

from __future__ import annotations

import io
from collections.abc import Callable

from django.http import FileResponse, HttpResponse, JsonResponse

from ..integrity import DocumentIntegrityError

INCIDENT = ("This document failed its integrity check: its stored bytes no longer match the SHA-256 recorded "
            "at issue. It is not served; the incident has been logged for the finance and IT teams.")


def stored_pdf_response(produce: Callable[[], tuple[bytes, str]], *, api: bool = False) -> HttpResponse:
    """`produce()` returns (verified bytes, file name) or raises DocumentIntegrityError."""
    try:
        content, filename = produce()
    except DocumentIntegrityError:
        if api:
            return JsonResponse({"error": "document_integrity", "message": INCIDENT, "fields": {}}, status=500)
        return HttpResponse(INCIDENT, status=500, content_type="text/plain; charset=utf-8")
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf")
