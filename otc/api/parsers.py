"""JSON bodies only (every API body is JSON; nested bodies need it), and strictly: a lone UTF-16
surrogate ("\\udae5") is valid JSON text but no valid Unicode string, and PostgreSQL refuses to
store it (a 500 schemathesis found); nor a NUL character. Both are a 400 parse_error instead."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_surrogate(data):
            raise ParseError("The body contains a null character or an invalid Unicode escape (a lone surrogate "
                             "such as \\udae5).")
        return data
