"""The OpenAPI schema as a contract: every operation declares the error answers it can give
(400, 401, 403, 404, 405, 409, 413, 415, 429) with the one error shape, the headers it reads
(Idempotency-Key on POST, X-Change-Reason on PUT/PATCH) and the token scope it needs
(`x-required-scope`). Set as DEFAULT_SCHEMA_CLASS, so every endpoint inherits it."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of every failure."""

    error = serializers.CharField(help_text="A stable machine code, e.g. validation_error, not_found, conflict")
    message = serializers.CharField(help_text="A sentence for a person")
    fields = serializers.DictField(help_text="Per-field messages for validation errors (field -> list of "
                                   "messages, nested for nested bodies), else {}")

    class Meta:
        ref_name = "Error"


ERRORS: dict[str, str] = {
    "400": "Invalid input, an unknown field or query parameter, or a business rule broken "
           "(validation_error, parse_error, invalid_amount, domain_error, finance_controlled, idempotency_key_reused...)",
    "401": "No or an invalid token (not_authenticated, authentication_failed)",
    "403": "The token lacks the scope, or the user the permission (permission_denied, segregation_of_duties, "
           "limit_exceeded)",
    "404": "No such record, or not visible to the caller (not_found)",
    "405": "Method not allowed here (method_not_allowed)",
    "409": "A state conflict: invalid_transition, a duplicate (conflict), or an idempotent request still running",
    "413": "The body is too large (payload_too_large)",
    "415": "The body is not JSON (unsupported_media_type)",
    "429": "Too many requests (throttled); retry after Retry-After seconds",
}
_WITH_BODY = {"POST", "PUT", "PATCH"}
_BLANKABLE_FORMATS = {"email", "uri", "url", "uuid", "ipv4", "ipv6", "hostname"}


class OtcAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self._get_response_for_code(ErrorSerializer, "400")["content"]
        responses = operation["responses"]
        for code, description in ERRORS.items():
            if code in ("413", "415") and self.method not in _WITH_BODY:
                continue
            existing = responses.get(code)
            if existing is None:
                responses[code] = {"description": description, "content": error}
            elif not existing.get("content"):
                existing["content"] = error
        responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
            "schema": {"type": "string"}, "description": 'Bearer realm="api"'}
        responses["429"].setdefault("headers", {})["Retry-After"] = {
            "schema": {"type": "integer"}, "description": "Seconds to wait"}
        parameters = operation.setdefault("parameters", [])
        names = {(p.get("in"), p.get("name")) for p in parameters}
        if self.method == "POST" and ("header", "Idempotency-Key") not in names:
            parameters.append({
                "in": "header", "name": "Idempotency-Key", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[A-Za-z0-9._:-]+$"},
                "description": "A unique key (a UUID) that makes a retry safe: the same key and body replay the "
                               "stored answer (header Idempotent-Replayed: true); another body with it is a 400."})
        if self.method in ("PUT", "PATCH") and ("header", "X-Change-Reason") not in names:
            parameters.append({
                "in": "header", "name": "X-Change-Reason", "required": False,
                "schema": {"type": "string", "maxLength": 200, "pattern": "^[ -~]*$"},
                "description": "Why the record changes; kept in its history."})
        query = {p.get("name"): p for p in parameters if p.get("in") == "query"}
        if "entity" in query and "legal_entity" in query:  # the reports' old spelling (docs/api.md, References)
            query["entity"]["deprecated"] = True
            query["entity"]["description"] = "Deprecated: use `legal_entity`."
        if not parameters:
            del operation["parameters"]
        scopes = self._scopes()
        if scopes:
            operation["x-required-scope"] = scopes[0]
            if len(scopes) > 1:
                operation["x-accepted-scopes"] = list(scopes)
            text = " or ".join(f"`{scope}`" for scope in scopes)
            operation["description"] = (operation.get("description", "") + f"\n\nToken scope: {text}.").strip()
        return operation

    def _map_basic_serializer(self, serializer, direction):
        """A field that may be blank ("" for no e-mail) cannot promise a format: "" is not an
        e-mail address. Such fields (and read-only ones, whose blankness DRF does not carry over
        from the model) keep the format in their description instead."""
        schema = super()._map_basic_serializer(serializer, direction)
        properties = schema.get("properties", {})
        for old, new in (getattr(serializer, "deprecated_fields", None) or {}).items():
            if old in properties:
                properties[old]["deprecated"] = True
                properties[old]["description"] = (f"Deprecated: use `{new}`. "
                                                  + properties[old].get("description", "")).strip()
        groups = [g for g in getattr(serializer, "one_of", ()) if all(n in properties for n in g)]
        if direction == "request" and groups and not getattr(serializer, "partial", False):
            choices = [{"oneOf": [{"required": [name]} for name in group]} for group in groups]
            if len(choices) == 1:
                schema.update(choices[0])
            else:
                schema["allOf"] = choices
        for name, prop in schema.get("properties", {}).items():
            field = serializer.fields.get(name)
            if field is None or prop.get("format") not in _BLANKABLE_FORMATS:
                continue
            if getattr(field, "allow_blank", False) or (direction == "response" and field.read_only):
                fmt = prop.pop("format")
                prop["description"] = (prop.get("description", "") + f" ({fmt}, or empty)").strip()
        return schema

    def _get_serializer_field_meta(self, field, direction):
        """A read-only field that falls back to None (`source="parent.account_number", default=None`)
        answers null: say so (nullable)."""
        meta = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, serializers.Field) and field.read_only and field.default is None:
            meta["nullable"] = True
        return meta

    def _scopes(self) -> tuple[str, ...]:
        action = getattr(self.view, "action", None) or self.method.lower()
        scope = (getattr(self.view, "action_scopes", None) or {}).get(action)
        if not scope:
            return ()
        return tuple(scope) if isinstance(scope, tuple | list) else (scope,)
