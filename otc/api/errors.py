"""One JSON error shape for every API failure: {"error": code, "message": text, "fields": {...}}."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from otc.errors import DomainError

from .throttling import FailedAuthThrottle

_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_response(code: str, message: str, http_status: int, fields: dict | None = None, headers=None) -> Response:
    return Response({"error": code, "message": message, "fields": fields or {}}, status=http_status, headers=headers)


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            return f"{key}: {_flatten(value)}"
        return ""
    if isinstance(detail, list):
        return _flatten(detail[0]) if detail else ""
    return str(detail)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


_CODES[PayloadTooLarge] = "payload_too_large"


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response(exc.code, exc.message, exc.http_status, exc.fields)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
                              "an API request may carry.")
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and context.get("request"):
        wait = FailedAuthThrottle().record(context["request"])  # per IP: docs/api.md#throttling
        if wait is not None:
            exc = exceptions.Throttled(wait)
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return error_response(code, "Invalid input. " + _flatten(detail), status.HTTP_400_BAD_REQUEST, detail, headers)
    return error_response(code, _flatten(exc.detail), exc.status_code, None, headers)


# --- outside DRF views: Django's error handlers and middleware answer API paths in the same shape

def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def json_error(code: str, message: str, http_status: int, fields: dict | None = None):
    from django.http import JsonResponse

    return JsonResponse({"error": code, "message": message, "fields": fields or {}}, status=http_status)


def api_not_found(request):
    message = f"There is no API route {request.path}."
    if not request.path.endswith("/"):
        message += " API routes end with a slash: did you mean " + request.path + "/ ?"
    return json_error("not_found", message, 404)
