"""Domain errors raised by services, with messages a finance user understands.

One DRF exception handler (otc.api.errors) maps them to `{"error", "message", "fields"}`;
HTML views turn them into form errors or messages.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    code = "validation_error"


class InvalidAmount(ValidationFailed, ValueError):
    code = "invalid_amount"


class CurrencyMismatch(DomainError, ValueError):
    code = "currency_mismatch"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class SegregationOfDuties(PermissionDenied):
    code = "segregation_of_duties"


class LimitExceeded(PermissionDenied):
    code = "limit_exceeded"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
