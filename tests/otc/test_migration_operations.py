"""`otc.migration_operations.created_together`: the additions folded into their creations and
each run of CreateModels applied as one (decision 0018, sessions 11 and 12) leave the same
migration state as the operations the migration spells, for every migration of the project that
uses it, and write the same statements (the folded indexes with their tables, not after them).

The schema itself was compared from zero on both engines when the folding came in (`pg_dump
--schema-only`: identical; SQLite's `sqlite_master`: identical but for one self-referential
column's position, see decision 0018)."""

from __future__ import annotations

import copy

import pytest
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader

from otc.migration_operations import CreateModels, GroupedOperations, PostgresSQL, created_together, folded


def _grouped_migrations() -> tuple[MigrationLoader, list]:
    loader = MigrationLoader(None, replace_migrations=True)  # a fresh database: the squashed migrations
    found = [(key, migration) for key, migration in sorted(loader.graph.nodes.items())
             if isinstance(type(migration).operations, GroupedOperations)]
    return loader, found


def _separate(migration):
    """The same migration with the operations as its file spells them (Django copies the class's
    list into a plain one per instance: the spelled ones are on the class's)."""
    clone = copy.copy(migration)
    clone.operations = list(type(migration).operations.separate)
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
    # the same statements; an index folded into its model's creation is created with the table's
    # other deferred statements rather than at its own place
    assert sorted(sql) == sorted(separate_sql)
    assert len(migration.operations) < len(_separate(migration).operations)
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
    barrier = migrations.RunPython(migrations.RunPython.noop)
    grouped = created_together([a, b, barrier, c])
    assert [type(operation) for operation in grouped] == [CreateModels, migrations.RunPython, migrations.CreateModel]
    assert grouped[0].operations == [a, b] and grouped[2] is c
    assert created_together([]) == [] and created_together([a]) == [a]
    assert created_together([a, b, barrier, c]).separate == [a, b, barrier, c]
    # an addition folded into its creation no longer splits the run
    folded_in = created_together([a, b, field, c])
    assert len(folded_in) == 1 and [operation.name for operation in folded_in[0].operations] == ["A", "B", "C"]
    with pytest.raises(TypeError):
        CreateModels([a, field])
    assert grouped[0].describe() == "Create models A, B"
    assert grouped[0].references_model("b", "app") and not grouped[0].references_model("c", "app")


def _index(model: str, *fields: str, name: str) -> migrations.AddIndex:
    return migrations.AddIndex(model, models.Index(fields=list(fields), name=name))


def _options(operation: migrations.CreateModel, option: str) -> list[str]:
    return [item.name for item in operation.options.get(option, [])]


def test_additions_fold_into_their_creation_only_where_nothing_could_tell():
    a = _create("A", ("x", models.IntegerField()))
    b = _create("B", ("y", models.IntegerField()))
    unique_x = migrations.AddConstraint("a", models.UniqueConstraint(fields=["x"], name="a_x_unique"))
    positive = migrations.AddConstraint("a", models.CheckConstraint(condition=models.Q(x__gte=0), name="a_x_gte_0"))
    # an index on A's own field folds into A's creation, past B's creation
    result = folded([a, b, _index("a", "x", name="a_x"), unique_x, positive])
    assert [type(operation) for operation in result] == [migrations.CreateModel, migrations.CreateModel]
    assert _options(result[0], "indexes") == ["a_x"]
    assert _options(result[0], "constraints") == ["a_x_unique", "a_x_gte_0"]
    assert result[1] is b
    # a field pointing at a model created after A stays in place, and so do the index on it and
    # every later field on A (the columns keep their order); an index on A's own fields still folds
    to_b = migrations.AddField("a", "b", models.ForeignKey("app.B", models.CASCADE))
    later = migrations.AddField("a", "z", models.IntegerField(default=0))
    on_b = _index("a", "b", name="a_b")
    result = folded([a, b, to_b, later, on_b, _index("a", "x", name="a_x")])
    assert result[2:] == [to_b, later, on_b]
    assert _options(result[0], "indexes") == ["a_x"]
    # a field pointing at a model created before it folds, and a field of its own type too
    to_a = migrations.AddField("b", "a", models.ForeignKey("app.A", models.CASCADE))
    result = folded([a, b, to_a, migrations.AddField("b", "w", models.IntegerField(default=0))])
    assert len(result) == 2 and [name for name, _ in result[1].fields] == ["id", "y", "a", "w"]
    # nothing moves across another kind of operation, and an expression index stays
    barrier, after = migrations.RunPython(migrations.RunPython.noop), _index("a", "x", name="a_x")
    assert folded([a, barrier, after]) == [a, barrier, after]
    lower = migrations.AddIndex("a", models.Index(models.F("x"), name="a_x_expr"))
    assert folded([a, lower]) == [a, lower]
    # a check on a field added in place stays; an addition to a model of an earlier migration too
    on_z = migrations.AddConstraint("a", models.CheckConstraint(condition=models.Q(z__gte=0), name="a_z"))
    z_to_b = migrations.AddField("a", "z", models.ForeignKey("app.B", models.CASCADE))
    assert folded([a, b, z_to_b, on_z]) == [a, b, z_to_b, on_z]
    elsewhere = _index("c", "x", name="c_x")
    assert folded([a, elsewhere]) == [a, elsewhere]


@pytest.mark.django_db
def test_postgres_sql_runs_on_postgresql_and_does_nothing_elsewhere():
    from types import SimpleNamespace

    probe = PostgresSQL("CREATE TABLE otc_postgres_sql_probe (i integer)", "DROP TABLE otc_postgres_sql_probe")
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            probe.database_forwards("otc", editor, None, None)
        assert "otc_postgres_sql_probe" in connection.introspection.table_names()
        with connection.schema_editor() as editor:
            probe.database_backwards("otc", editor, None, None)
    else:  # not even a schema editor is asked for: an object naming the connection is enough
        probe.database_forwards("otc", SimpleNamespace(connection=connection), None, None)
    assert "otc_postgres_sql_probe" not in connection.introspection.table_names()
