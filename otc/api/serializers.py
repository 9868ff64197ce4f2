"""Base class for every API input serializer: unknown fields are refused.

A typo or a field the API does not take ("creditLimit", a read-only "account_number") would
otherwise be silently ignored and the caller would think it was written."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from otc.dates import validate_business_date


def _business_date(value) -> None:
    try:
        validate_business_date(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages[0])


class InputSerializer(serializers.Serializer):
    """Refuses unknown fields; every date field refuses implausible dates (otc.dates).

    `one_of`: groups of alternative fields of which exactly one is given (an invoice by
    `invoice_id` or `invoice_number`); the schema says so with `oneOf`. `deprecated_fields`:
    {old spelling: the field to use}: still accepted, marked `deprecated` in the schema."""

    one_of: tuple[tuple[str, ...], ...] = ()
    deprecated_fields: dict[str, str] = {}

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.DateField | serializers.DateTimeField):
                field.validators.append(_business_date)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: this endpoint does not take it."] for name in unknown})
            if not self.partial:
                for group in self.one_of:
                    given = [name for name in group if data.get(name) not in (None, "")]
                    if len(given) != 1:
                        text = f"Give exactly one of {', '.join(group)}."
                        raise serializers.ValidationError({name: [text] for name in (given or group)})
        return super().to_internal_value(data)
