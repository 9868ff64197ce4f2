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
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import migrations
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


def created_together(operations: list[Operation]) -> list[Operation]:
    """`operations` with each run of two or more consecutive `CreateModel`s as one `CreateModels`."""
    result: list[Operation] = []
    run: list[migrations.CreateModel] = []
    for operation in [*operations, None]:
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
