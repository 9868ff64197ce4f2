"""`Idempotency-Key` on POST.

The key is reserved (per caller) in its own short transaction before the work runs. A retry
with the same key and body replays the stored response; the same key with another body is
refused; a retry while the first is still running gets 409. A failed first attempt (5xx or an
exception) releases the key so the client may retry.
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from otc.dates import now
from otc.errors import Conflict, ValidationFailed
from otc.models import IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"


class _Replay(Exception):
    def __init__(self, record: IdempotencyKey) -> None:
        self.record = record


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.get_full_path().encode())
    try:
        body = request.body or b""
    except RawPostDataException:  # a multipart upload already read from the stream
        body = json.dumps(
            {k: request.POST.getlist(k) for k in sorted(request.POST)}
            | {k: [f"{f.name}:{f.size}" for f in request.FILES.getlist(k)] for k in sorted(request.FILES)},
            sort_keys=True,
        ).encode()
    digest.update(body)
    return digest.hexdigest()


class IdempotencyMixin:
    """Mix into DRF views (before the DRF base class)."""

    _idempotency_record: IdempotencyKey | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.META.get(HEADER)
        if request.method != "POST" or not key:
            return
        if len(key) > 255:
            raise ValidationFailed("Idempotency-Key is longer than 255 characters.", fields={"Idempotency-Key": ["too long"]})
        digest = _request_hash(request._request)
        try:
            with transaction.atomic():
                self._idempotency_record = IdempotencyKey.objects.create(
                    user=request.user, key=key, request_hash=digest, method=request.method,
                    path=request.get_full_path()[:500],
                )
        except IntegrityError:
            existing = IdempotencyKey.objects.get(user=request.user, key=key)
            if existing.request_hash != digest:
                raise ValidationFailed(
                    "This Idempotency-Key was already used with a different request; use a new key.",
                    fields={"Idempotency-Key": ["reused with a different body"]},
                    code="idempotency_key_reused",
                )
            if existing.completed_at is None:
                raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
            raise _Replay(existing)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            response = Response(exc.record.response_body, status=exc.record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            return super().handle_exception(exc)
        except Exception:
            if self._idempotency_record is not None:  # an unhandled failure releases the key
                IdempotencyKey.objects.filter(pk=self._idempotency_record.pk).delete()
                self._idempotency_record = None
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        record = self._idempotency_record
        if record is not None:
            self._idempotency_record = None
            if response.status_code >= 500:
                IdempotencyKey.objects.filter(pk=record.pk).delete()
            else:
                body = json.loads(json.dumps(getattr(response, "data", None), cls=JSONEncoder))
                IdempotencyKey.objects.filter(pk=record.pk).update(
                    status_code=response.status_code, response_body=body, completed_at=now()
                )
        return super().finalize_response(request, response, *args, **kwargs)
