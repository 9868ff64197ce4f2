"""`field__any=ids`: the `__in` lookup for long lists of integer keys, sent as one array.

`Invoice.objects.filter(pk__any=ids)` means exactly `filter(pk__in=ids)`. On PostgreSQL, when
every value is a plain `int` and the column is an integer or a foreign key to one, it is sent as
`col = ANY('{1,2,...}'::bigint[])`: one parameter, one array literal for the server to parse, and
no per-value preparation in Django. `__in` prepares every value through the field (a month-end
chunk passes about 10,000 keys, 3-4 us each) and sends one placeholder per value, which the
server parses as as many constants. Anything else (SQLite, other columns, other values,
expressions, an empty list) is `__in` as it is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

from otc.bulk import array_literal

_INTEGER = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                      "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                      "PositiveSmallIntegerField"})


def _integer_column(field: Any) -> bool:
    if not type(field).__module__.startswith("django.db.models.fields"):
        return False  # a project's own field may prepare its values otherwise
    if field.get_internal_type() in ("ForeignKey", "OneToOneField"):
        return _integer_column(field.target_field)
    return field.get_internal_type() in _INTEGER


class _AnyOf:
    """The array form, over `In` (plain fields) or `RelatedIn` (foreign keys: objects as values)."""

    lookup_name = "any"
    rhs: Any
    lhs: Any

    def _as_array(self) -> bool:
        rhs = self.rhs
        return (isinstance(rhs, list | tuple | set | frozenset) and bool(rhs)
                and all(type(value) is int for value in rhs)
                and _integer_column(getattr(self.lhs, "output_field", None)))

    def get_prep_lookup(self) -> Any:
        if self._as_array():
            return list(self.rhs)  # plain ints: nothing for the field to prepare
        return super().get_prep_lookup()

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not self._as_array():
            return self.as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs_sql} = ANY(%s::bigint[])", [*lhs_params, array_literal(self.rhs)]


@Field.register_lookup
class AnyOf(_AnyOf, In):
    pass


@ForeignObject.register_lookup
class RelatedAnyOf(_AnyOf, RelatedIn):
    pass
