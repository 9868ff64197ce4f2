"""Issued documents are immutable: the guard every printed billing document inherits, and the
field shapes (money, rates, quantities) the billing models share."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from otc.errors import InvalidTransition
from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}
RATE = {"max_digits": 7, "decimal_places": 4}
QTY = {"max_digits": 18, "decimal_places": 4}

# --- issued documents are immutable -------------------------------------------------------------
#
# The model and queryset refuse ORM changes to the printed columns of issued documents; on
# PostgreSQL the triggers of migration 0005 refuse them for any SQL as well (and TRUNCATE).
# `MOVABLE` are the columns the services may still move after issue (status, paid and credited
# amounts, void stamps); `ONCE` are set once after issue (the stored PDFs and their SHA-256).

class ImmutableDocumentError(InvalidTransition):
    code = "immutable_document"


class DocumentQuerySet(models.QuerySet):
    """`update()`, `delete()` and `bulk_update()` refuse to touch frozen (issued) rows' printed
    columns; drafts and the movable columns pass."""

    def _frozen(self) -> models.QuerySet:
        return self.filter(self.model.frozen_q())

    def _refuse(self, what: str) -> None:
        raise ImmutableDocumentError(
            f"Issued {self.model._meta.verbose_name_plural} are immutable: {what} refused "
            "(correct them with a credit note or a void).")

    def update(self, **kwargs):
        if set(kwargs) - self.model.MOVABLE and self._frozen().exists():
            self._refuse(f"changing {', '.join(sorted(set(kwargs) - self.model.MOVABLE))}")
        return super().update(**kwargs)

    def delete(self):
        if self._frozen().exists():
            self._refuse("deleting them")
        return super().delete()

    def bulk_update(self, objs, fields, batch_size=None):
        if set(fields) - self.model.MOVABLE and self.model._default_manager.filter(
                pk__in=[obj.pk for obj in objs]).filter(self.model.frozen_q()).exists():
            self._refuse(f"changing {', '.join(sorted(set(fields) - self.model.MOVABLE))}")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs, *args, **kwargs):
        parent = getattr(self.model, "PARENT", None)
        if parent and objs:
            ids = {getattr(obj, f"{parent}_id") for obj in objs}
            model = self.model._meta.get_field(parent).related_model
            if model._default_manager.filter(pk__in=ids).filter(model.frozen_q(prefix="")).exists():
                self._refuse("adding lines")
        return super().bulk_create(objs, *args, **kwargs)


class DocumentGuard(models.Model):
    """`save()` and `delete()` of a frozen row refuse printed columns (see DocumentQuerySet)."""

    MOVABLE: frozenset[str] = frozenset()
    ONCE: frozenset[str] = frozenset()
    PARENT: str = ""

    objects = DocumentQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None:
            if self.PARENT and self._parent_frozen():
                raise ImmutableDocumentError(f"The document is issued: no {self._meta.verbose_name} can be added to it.")
        else:
            refused = self._refused_changes(kwargs.get("update_fields"))
            if refused:
                raise ImmutableDocumentError(
                    f"{self} is issued and immutable: {', '.join(refused)} cannot change "
                    "(correct it with a credit note or a void).")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and self._frozen_row([]) is not None:
            raise ImmutableDocumentError(f"{self} is issued and cannot be deleted (correct it with a credit note or a void).")
        return super().delete(*args, **kwargs)

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:  # pragma: no cover - each model says
        raise NotImplementedError

    def _frozen_row(self, attnames: list[str]) -> dict | None:
        """The stored values of `attnames` when the stored row is frozen, else None (one query)."""
        manager = type(self)._default_manager
        return manager.filter(pk=self.pk).filter(self.frozen_q()).values("pk", *attnames).first()

    def _parent_frozen(self) -> bool:
        parent = self._meta.get_field(self.PARENT).related_model
        return parent._default_manager.filter(pk=getattr(self, f"{self.PARENT}_id")).filter(
            parent.frozen_q(prefix="")).exists()

    def _refused_changes(self, update_fields) -> list[str]:
        """Printed columns this save would change on a frozen row (value by value, so a full
        save() that changes nothing printed passes); a ONCE column only while it is still empty."""
        names = set(update_fields) if update_fields is not None else None
        printed = [field for field in self._meta.concrete_fields if not field.primary_key
                   and field.name not in self.MOVABLE and (names is None or field.name in names)]
        if not printed:
            return []
        row = self._frozen_row([field.attname for field in printed])
        if row is None:
            return []
        refused = []
        for field in printed:
            stored, value = row[field.attname], getattr(self, field.attname)
            try:
                value = field.to_python(value) if value is not None and not hasattr(value, "name") else value
            except Exception:  # noqa: BLE001 - an unparseable value is a change
                refused.append(field.name)
                continue
            if hasattr(value, "name") and not isinstance(value, str):  # a FieldFile compares by name
                value = value.name or ""
            if value != stored and not (field.name in self.ONCE and not stored):
                refused.append(field.name)
        return refused


def draft_q(prefix: str | None, status_field: str = "status") -> Q:
    return ~Q(**{f"{prefix or ''}{status_field}": "draft"})
