"""`otc.migration_operations.CreateModels`: a run of CreateModels applied as one (decision 0018,
session 11) writes the same SQL and leaves the same migration state as the separate operations,
for every migration of the project that uses it."""

from __future__ import annotations

import copy

import pytest
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader

from otc.migration_operations import CreateModels, created_together


def _grouped_migrations() -> tuple[MigrationLoader, list]:
    loader = MigrationLoader(None, replace_migrations=True)  # a fresh database: the squashed migrations
    found = [(key, migration) for key, migration in sorted(loader.graph.nodes.items())
             if any(isinstance(operation, CreateModels) for operation in migration.operations)]
    return loader, found


def _separate(migration):
    """The same migration with every CreateModels spelled out as its CreateModel operations."""
    clone = copy.copy(migration)
    clone.operations = [inner for operation in migration.operations
                        for inner in (operation.operations if isinstance(operation, CreateModels) else [operation])]
    return clone


def _applied(migration, state):
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        after = migration.apply(state.clone(), editor, collect_sql=True)
    # without the "-- Create model X" comments sqlmigrate prints per operation
    return [statement for statement in editor.collected_sql if not statement.startswith("--")], after


def test_each_grouped_migration_leaves_the_same_state_as_its_separate_operations():
    loader, found = _grouped_migrations()
    # the squashed migrations of every app, helpdesk's and otc's first
    assert {key[0] for key, _ in found} >= {"billing", "collections_app", "contracts", "customers", "helpdesk",
                                             "ledger", "otc", "receivables"}
    for key, migration in found:
        before = loader.project_state(key, at_end=False)
        grouped, separate = before.clone(), before.clone()
        for operation in migration.operations:
            operation.state_forwards(key[0], grouped)
        for operation in _separate(migration).operations:
            operation.state_forwards(key[0], separate)
        assert grouped.models == separate.models, key
        assert len(grouped.models) > len(before.models), key


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to open inside a transaction
@pytest.mark.parametrize("key", [("contracts", "0001_squashed_0002"), ("customers", "0001_squashed_0003")])
def test_a_grouped_migration_writes_the_sql_of_its_separate_operations_and_its_models_render(key):
    # two small ones: the separate operations are what costs (each creation re-renders its relations)
    loader = MigrationLoader(None, replace_migrations=True)
    migration = loader.graph.nodes[key]
    assert any(isinstance(operation, CreateModels) for operation in migration.operations)
    before = loader.project_state(key, at_end=False)
    sql, state = _applied(migration, before)
    separate_sql, separate_state = _applied(_separate(migration), before)
    assert sql == separate_sql
    created = sum(len(operation.operations) for operation in migration.operations if isinstance(operation, CreateModels))
    assert sum(statement.startswith("CREATE TABLE") for statement in sql) >= created > 1
    assert state.models == separate_state.models
    assert {model._meta.model_name for model in state.apps.get_app_config(key[0]).get_models()} == \
        {name for app, name in state.models if app == key[0]}


def _create(name: str, *fields) -> migrations.CreateModel:
    return migrations.CreateModel(name, [("id", models.AutoField(primary_key=True)), *fields])


def test_runs_of_two_or_more_creations_are_grouped_in_order():
    a, b, c = _create("A"), _create("B"), _create("C")
    field = migrations.AddField("a", "x", models.IntegerField(default=0))
    grouped = created_together([a, b, field, c])
    assert [type(operation) for operation in grouped] == [CreateModels, migrations.AddField, migrations.CreateModel]
    assert grouped[0].operations == [a, b] and grouped[2] is c
    assert created_together([]) == [] and created_together([a]) == [a]
    with pytest.raises(TypeError):
        CreateModels([a, field])
    assert grouped[0].describe() == "Create models A, B"
    assert grouped[0].references_model("b", "app") and not grouped[0].references_model("c", "app")
