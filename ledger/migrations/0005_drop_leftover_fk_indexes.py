"""Drop the journal entry's single-column indexes on `legal_entity_id`, `posted_by_id` and
`source_type_id` where a database still has them (decision 0016, session 12).

`0003_fewer_redundant_indexes` set `db_index=False` on the three keys: `(legal_entity, entry_date)`
and the unique `(legal_entity, number)` lead with the entity, `(source_type, source_id)` with the
source type, and nothing reads entries by the user who posted them. A database migrated step by
step lost the three indexes then. A database built from `0001_squashed_0004` kept them: the
table's foreign-key indexes are created as deferred SQL at the end of that migration, after its
`AlterField`s had found nothing to drop. Every test and bench database and every new install is
built that way, so each posted entry still paid three index entries the models do not declare.

Only an index on exactly one of those columns that the model does not declare is dropped; a
database without them is left as it is. Nothing to undo: the migration state never had them."""

from django.db import migrations

LEFTOVER = {"journalentry": ["legal_entity", "posted_by", "source_type"]}


def drop_leftover_indexes(apps, schema_editor):
    connection = schema_editor.connection
    for model_name, field_names in LEFTOVER.items():
        model = apps.get_model("ledger", model_name)
        declared = {index.name for index in model._meta.indexes} | {c.name for c in model._meta.constraints}
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        columns = {model._meta.get_field(name).column for name in field_names}
        for name, info in sorted(constraints.items()):
            if (info["index"] and not info["unique"] and not info["primary_key"] and name not in declared
                    and len(info["columns"]) == 1 and info["columns"][0] in columns):
                schema_editor.execute(schema_editor.sql_delete_index % {
                    "table": schema_editor.quote_name(model._meta.db_table), "name": schema_editor.quote_name(name)})


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0004_openitem_open_aging_index"),
    ]

    operations = [
        migrations.RunPython(drop_leftover_indexes, migrations.RunPython.noop, elidable=True),
    ]
