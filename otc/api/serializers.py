"""Base class for every API input serializer: unknown fields are refused.

A typo or a field the API does not take ("creditLimit", a read-only "account_number") would
otherwise be silently ignored and the caller would think it was written."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: this endpoint does not take it."] for name in unknown})
        return super().to_internal_value(data)
