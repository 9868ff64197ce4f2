"""One shape per concept in API bodies (docs/api.md, "References"):

- a legal entity is `legal_entity` (its code) with `legal_entity_id` readable;
- a person is `<role>` (their e-mail) with `<role>_id` readable (`sales_owner`, `requested_by`);
- an invoice is `invoice_id` with `invoice_number` beside it (a credit note: `credit_note_id` /
  `credit_note_number`), in every output that refers to one.

These factories make the read-only output fields, so every serializer spells them alike; a legal
entity in a query parameter is read with `entity_param` and `legal_entity_id_from`."""

from __future__ import annotations

from rest_framework import serializers

from otc.errors import ValidationFailed


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


def entity_param(q: dict) -> str | None:
    """`legal_entity` (the name used everywhere else) or its deprecated alias `entity`."""
    new, old = q.get("legal_entity"), q.get("entity")
    if new and old and new != old:
        raise ValidationFailed("Give legal_entity (entity is its deprecated alias), not both.",
                               fields={"legal_entity": ["conflicts with entity"]})
    return new or old


def legal_entity_id_from(value: str | None) -> int | None:
    """A legal entity named in a query parameter (its code, or its id), as an id; None when not
    given; an unknown one is refused."""
    if not value:
        return None
    from ledger.models import LegalEntity

    entity = LegalEntity.objects.filter(code=value).values_list("pk", flat=True).first()
    if entity is None and value.isascii() and value.isdigit():  # "²".isdigit() too, but no int
        entity = LegalEntity.objects.filter(pk=int(value)).values_list("pk", flat=True).first()
    if entity is None:
        raise ValidationFailed(f"Unknown legal entity '{value}'.", fields={"entity": ["unknown"]})
    return entity
