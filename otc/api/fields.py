"""Input fields shared by every API serializer."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from otc.money import MAX_DIGITS, STORAGE_PLACES, quantize

# Plain ASCII decimal notation only: an optional minus, digits, an optional '.' and digits. No
# grouping ("1,234.56"), no '+', no exponent, no non-ASCII digits, no spaces.
_STRICT_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
                      "example": "1190.00", "maxLength": 40})
class AmountField(serializers.Field):
    """An amount as a JSON string ("50000.00") or a JSON integer. Refused: floats (binary
    floating point cannot hold most decimal amounts exactly), grouping separators, a plus sign,
    exponents, non-ASCII digits and more than 16 integer digits. Whether the places fit the
    currency is the service's check (it knows the currency)."""

    default_error_messages = {
        "float": 'Send amounts as strings, e.g. "1234.50", not as floating-point numbers.',
        "invalid": '{value!r} is not an amount: use plain digits with an optional "-" and "." for decimals, '
                   'e.g. "1234.50" (no grouping separators, no "+").',
        "too_large": "{value!r} is too large: at most {digits} digits before the decimal point.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid", value=data)
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, int):
            data = str(data)
        if not isinstance(data, str) or len(data) > 60 or not _STRICT_AMOUNT.fullmatch(data):
            self.fail("invalid", value=data if isinstance(data, str) else type(data).__name__)
        integer = data.lstrip("-").split(".")[0].lstrip("0")
        if len(integer) > MAX_DIGITS - STORAGE_PLACES:
            self.fail("too_large", value=data, digits=MAX_DIGITS - STORAGE_PLACES)
        return data  # a string: the service parses it with the currency's rules

    def to_representation(self, value):
        return str(value) if isinstance(value, Decimal | int | str) else value


# --- output: amounts in their currency's minor unit -------------------------------------------------

_AMOUNT_SCHEMA = {"type": "string", "format": "decimal", "example": "1190.00",
                  "description": "Decimal string in the document currency's minor unit"}


def _dotted(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@extend_schema_field(_AMOUNT_SCHEMA)
class MoneyField(serializers.Field):
    """An amount quantised to its document's currency, as a string. `currency_from` is the dotted
    path from the serialized object to the currency code (a line reads its document's)."""

    def __init__(self, *, currency_from: str = "currency", **kwargs) -> None:
        self.currency_from = currency_from
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return super().get_attribute(instance), _dotted(instance, self.currency_from)

    def to_representation(self, value) -> str:
        amount, currency = value
        return str(quantize(amount, currency))


@extend_schema_field({**_AMOUNT_SCHEMA, "description": "Decimal string; more places than the currency's "
                      "minor unit only when the price has them"})
class PriceField(MoneyField):
    """A unit price: in the currency's minor unit unless it is more precise (a price of 33.335)."""

    def to_representation(self, value) -> str:
        amount, currency = value
        rounded = quantize(amount, currency)
        return str(rounded) if rounded == amount else f"{amount.normalize():f}"




# --- input: a person by e-mail (an id still accepted) ---------------------------------------------

@extend_schema_field({"oneOf": [{"type": "string", "format": "email", "maxLength": 254},
                                {"type": "integer", "minimum": 1, "deprecated": True,
                                 "description": "Deprecated: the user id; send the e-mail (or the `_id` field)"}],
                      "nullable": True})
class PersonField(serializers.Field):
    """A person named by e-mail (the key a CRM has); a user id (an integer) is the old spelling,
    still accepted. Internal value: ("email", "a@b.example") or ("id", 5), or None."""

    default_error_messages = {"invalid": "Give the person's e-mail address."}

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and 0 < data < 2**63:
            return ("id", data)
        if isinstance(data, str) and len(data) <= 254:
            email = serializers.EmailField().run_validation(data.strip())
            return ("email", email)
        self.fail("invalid")

    def to_representation(self, value):
        return value
