"""Field errors for services, in one place: a model's own rules as {input name: [messages]}, and
one ValidationFailed that names every problem ("Please correct: Field: message; ...")."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models

from .errors import ValidationFailed

Errors = dict[str, list[str]]


def input_name(field: models.Field | models.ForeignObjectRel) -> str:
    """The name callers use: foreign keys by id (`customer_id`), others by their name."""
    return field.attname if isinstance(field, models.ForeignKey) else field.name


def model_errors(instance: models.Model, *, prefix: str = "", exclude: tuple[str, ...] | list[str] = (),
                 skip: set[str] | None = None, by_input_name: bool = True) -> Errors:
    """Run the model's full_clean (fields, clean(), unique and check constraints) without the
    `exclude`d fields; the errors, less those on `skip`, keyed by input name (`customer_id`;
    `by_input_name=False`: by field name) with `prefix` (e.g. "lines.2.")."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        out: Errors = {}
        for name, messages in exc.message_dict.items():
            if skip and name in skip:
                continue
            if name == NON_FIELD_ERRORS or not by_input_name:
                key = f"{prefix}{name}"
            else:
                key = f"{prefix}{input_name(instance._meta.get_field(name))}"
            out[key] = [str(m) for m in messages]
        return out
    return {}


def field_label(model: type[models.Model], field: str) -> str:
    """A field's words (its verbose name), or the name itself when the model has no such field."""
    try:
        return str(getattr(model._meta.get_field(field), "verbose_name", field))
    except FieldDoesNotExist:
        return field


def raise_if_errors(errors: Errors, *, label: Callable[[str], str] | None = None,
                    model: type[models.Model] | None = None) -> None:
    """Nothing when `errors` is empty; else one ValidationFailed naming each field's first
    problem (`label` turns a field name into words, `model` names them by its verbose names;
    nested names like "lines.2.x" stay as they are)."""
    if not errors:
        return
    if label is None and model is not None:
        label = partial(field_label, model)
    parts = []
    for field, messages in errors.items():
        if field == NON_FIELD_ERRORS:
            parts.append(messages[0])
        else:
            name = field if label is None or "." in field else label(field)
            parts.append(f"{name}: {messages[0]}")
    raise ValidationFailed("Please correct: " + "; ".join(parts), fields=errors)
