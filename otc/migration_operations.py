"""Migration operations of the project's own (decision 0018, session 11).

`migrate` from zero spent most of its time in Django's migration *state*, not in SQL: after each
`CreateModel` Django re-renders the new model and every model related to it, recursively. Almost
every model here points at the user, the legal entity or the customer (every history model points
at the user), so each of the ~140 creations re-rendered most of the models created before it:
about 12,500 model renders, ~27 of ~31 s of CPU for one `migrate` from zero.

`CreateModels` applies a run of `CreateModel` operations of one migration as one operation: each
adds its model state without rendering, and the rendered registry is dropped, so the next reader
renders every model once. The tables are created exactly as the `CreateModel`s create them (each
one's `database_forwards`, in order, from the state after the run: a run holds only creations, so
each model's state after the run is the one its `CreateModel` gave it) and dropped in reverse
order. The migration state after the run, and so `makemigrations` and every later migration,
is the same as with the separate operations.

`folded` (session 12) moves the indexes, constraints and fields a migration adds to a model it
created itself into that model's `CreateModel`, where nothing between could tell: each addition
applied on its own re-rendered its model and the models related to it again. `created_together`
does both; the migration files call it on their operations, which they still spell one by one.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import migrations, models
from django.db.migrations.operations.base import Operation


class CreateModels(Operation):
    def __init__(self, operations: Iterable[migrations.CreateModel]) -> None:
        self.operations = list(operations)
        if not all(isinstance(operation, migrations.CreateModel) for operation in self.operations):
            raise TypeError("CreateModels holds CreateModel operations only")

    def deconstruct(self):
        return self.__class__.__qualname__, [self.operations], {}

    def state_forwards(self, app_label, state) -> None:
        # Without a rendered registry, `add_model` only records the model state; the registry is
        # rendered again, whole, when it is next read.
        state.__dict__.pop("apps", None)
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for operation in self.operations:
            operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for operation in reversed(self.operations):
            operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def references_model(self, name, app_label) -> bool:
        return any(operation.references_model(name, app_label) for operation in self.operations)

    def describe(self) -> str:
        return f"Create models {', '.join(operation.name for operation in self.operations)}"

    @property
    def migration_name_fragment(self) -> str:
        return "_".join(operation.name_lower for operation in self.operations[:3])


class GroupedOperations(list):
    """A migration's operations as `created_together` applies them; `separate` holds them as the
    migration spells them (what the tests compare with)."""

    separate: list[Operation]


def created_together(operations: list[Operation]) -> GroupedOperations:
    """`operations` with the additions folded into their creations (`folded`), then each run of
    two or more consecutive `CreateModel`s as one `CreateModels`."""
    result = GroupedOperations()
    result.separate = list(operations)
    run: list[migrations.CreateModel] = []
    for operation in [*folded(operations), None]:
        if isinstance(operation, migrations.CreateModel):
            run.append(operation)
            continue
        if len(run) > 1:
            result.append(CreateModels(run))
        else:
            result.extend(run)
        run = []
        if operation is not None:
            result.append(operation)
    return result


ADDITIONS = (migrations.AddField, migrations.AddIndex, migrations.AddConstraint)


def folded(operations: list[Operation]) -> list[Operation]:
    """`operations` with each `AddField`, `AddIndex` and `AddConstraint` on a model created earlier
    in the list folded into that model's `CreateModel` by Django's own `CreateModel.reduce` (what
    its migration optimizer does), wherever moving it back to the creation changes nothing:

    - only creations and other additions lie between the two: any other operation (a `RunPython`,
      an `AlterField`, a `RemoveConstraint`) is a barrier nothing after it moves across;
    - an index or constraint moves only if its fields can be read (not an expression) and none of
      them is added later, by an `AddField` that stays in place;
    - an `AddField` moves only if no earlier `AddField` on the model stayed (the columns keep their
      order), and only if the model it points at is created before the model it is added to, or
      outside this list (in an earlier migration).

    The state after the list is the same, and the database gets the same tables, columns, indexes
    and constraints, created with the table instead of after it. Each addition Django applies
    re-renders its model and every model related to it, and almost every model here points at the
    user: one folded saves that (about 0.1 s each on migrate from zero), and on SQLite the copy of
    the whole table that adding a constraint or a foreign key makes."""
    result: list[Operation] = []
    created: dict[str, int] = {}  # model name -> position of its CreateModel in `result`
    stayed: dict[str, set[str]] = {}  # model name -> the fields added after its creation, in place
    for operation in operations:
        if isinstance(operation, migrations.CreateModel):
            created[operation.name_lower] = len(result)
            result.append(operation)
            continue
        if not isinstance(operation, ADDITIONS):
            created.clear()
            stayed.clear()
            result.append(operation)
            continue
        model = operation.model_name_lower
        if model in created and _movable(operation, created, stayed.get(model, set())):
            reduced = result[created[model]].reduce(operation, "")  # the label only matters to model operations
            if isinstance(reduced, list) and len(reduced) == 1 and isinstance(reduced[0], migrations.CreateModel):
                result[created[model]] = reduced[0]
                continue
        if isinstance(operation, migrations.AddField):
            stayed.setdefault(model, set()).add(operation.name_lower)
        result.append(operation)
    return result


def _movable(operation: Operation, created: dict[str, int], stayed: set[str]) -> bool:
    if isinstance(operation, migrations.AddIndex | migrations.AddConstraint):
        fields = _fields_of(operation.index if isinstance(operation, migrations.AddIndex) else operation.constraint)
        return fields is not None and not fields & stayed
    if isinstance(operation, migrations.AddField):
        if stayed or not operation.preserve_default:  # a one-off default is not the model's
            return False
        target = operation.field.remote_field.model if operation.field.remote_field else None
        if target is None:
            return True
        name = (target if isinstance(target, str) else target._meta.label).rsplit(".", 1)[-1].lower()
        return name not in created or created[name] < created[operation.model_name_lower] or \
            name == operation.model_name_lower
    return False


def _fields_of(item) -> set[str] | None:
    """The field names an index or constraint uses, or None when they cannot be read."""
    if not isinstance(item, (models.Index, models.UniqueConstraint, models.CheckConstraint)):
        return None
    if getattr(item, "expressions", ()):
        return None
    names = {name.lstrip("-").lower() for name in (*getattr(item, "fields", ()), *(getattr(item, "include", ()) or ()))}
    condition = item.condition
    if condition is not None:
        used = _condition_fields(condition)
        if used is None:
            return None
        names |= used
    return names


def _condition_fields(condition) -> set[str] | None:
    names: set[str] = set()
    for child in condition.children:
        if isinstance(child, models.Q):
            used = _condition_fields(child)
            if used is None:
                return None
            names |= used
            continue
        if not isinstance(child, tuple):
            return None
        lookup, value = child
        names.add(lookup.split("__", 1)[0].lower())
        if isinstance(value, models.F):
            names.add(str(getattr(value, "name", "")).split("__", 1)[0].lower())
        elif hasattr(value, "resolve_expression"):
            return None
    return names


class PostgresSQL(migrations.RunSQL):
    """Raw SQL that only PostgreSQL runs (triggers, functions: the database's own guards, which the
    embedded SQLite has no counterpart for); on any other database it does nothing. One operation
    instead of a RunPython and its two vendor-checking functions in every such migration."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
