"""One shape per concept in API bodies (docs/api.md, "References"):

- a legal entity is `legal_entity` (its code) with `legal_entity_id` readable;
- a person is `<role>` (their e-mail) with `<role>_id` readable (`sales_owner`, `requested_by`);
- an invoice is `invoice_id` with `invoice_number` beside it (a credit note: `credit_note_id` /
  `credit_note_number`), in every output that refers to one.

These factories make the read-only output fields, so every serializer spells them alike."""

from __future__ import annotations

from rest_framework import serializers


def entity_code(source: str = "legal_entity") -> serializers.CharField:
    return serializers.CharField(source=f"{source}.code", read_only=True, help_text="Legal entity code, e.g. DE01")


def entity_id(source: str = "legal_entity") -> serializers.IntegerField:
    """Declare it as `<source>_id` (the model's own attribute)."""
    return serializers.IntegerField(read_only=True, help_text="Legal entity id")


def person_email(source: str, *, nullable: bool = True) -> serializers.CharField:
    extra = {"default": None, "allow_null": True} if nullable else {}
    return serializers.CharField(source=f"{source}.email", read_only=True, help_text="The person's e-mail", **extra)


def person_id(source: str, *, nullable: bool = True) -> serializers.IntegerField:
    """Declare it as `<source>_id` (the model's own attribute)."""
    extra = {"default": None, "allow_null": True} if nullable else {}
    return serializers.IntegerField(read_only=True, help_text="The person's user id", **extra)


def document_number(source: str, *, nullable: bool = True) -> serializers.CharField:
    extra = {"default": None, "allow_null": True} if nullable else {}
    return serializers.CharField(source=f"{source}.number", read_only=True, **extra)
