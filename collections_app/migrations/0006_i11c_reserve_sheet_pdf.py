from django.db import migrations, models

# A posted run's calculation sheet is stored once as a PDF with its SHA-256 (after posting). The
# database guard of posted runs lets exactly that through: a posted run whose sheet hash is empty
# may receive its sheet (nothing else changing); once stored, the sheet is as frozen as the rest
# (the posted -> reversed change may not touch it either).
COLUMNS = """{p}.legal_entity_id, {p}.as_of, {p}.policy_id, {p}.snapshot_id, {p}.functional_currency,
               {p}.matrix_total, {p}.specific_total, {p}.required_total, {p}.ledger_balance, {p}.adjustment,
               {p}.derivation::text, {p}.segments::text, {p}.prepared_by_id, {p}.approved_by_id, {p}.approved_at,
               {p}.posted_by_id, {p}.posted_at, {p}.journal_entry_id"""
GUARD = """
CREATE OR REPLACE FUNCTION collections_reserverun_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('posted', 'reversed') THEN
            RAISE EXCEPTION 'posted reserve run % is immutable: it cannot be deleted', OLD.id;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'reversed' THEN
        RAISE EXCEPTION 'reversed reserve run % is immutable', OLD.id;
    END IF;
    IF OLD.status = 'posted' THEN
        IF NEW.status = 'posted' AND OLD.sheet_pdf_sha256 = '' AND NEW.sheet_pdf_sha256 <> ''
           AND (NEWCOLS, NEW.reversal_entry_id) IS NOT DISTINCT FROM (OLDCOLS, OLD.reversal_entry_id) THEN
            RETURN NEW;
        END IF;
        IF NEW.status <> 'reversed' OR NEW.reversal_entry_id IS NULL
           OR (NEWCOLS, NEW.sheet_pdf, NEW.sheet_pdf_sha256)
           IS DISTINCT FROM
              (OLDCOLS, OLD.sheet_pdf, OLD.sheet_pdf_sha256) THEN
            RAISE EXCEPTION 'posted reserve run % is immutable: reverse it and prepare a new one', OLD.id;
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""".replace("NEWCOLS", COLUMNS.format(p="NEW")).replace("OLDCOLS", COLUMNS.format(p="OLD"))

OLD_GUARD = """
CREATE OR REPLACE FUNCTION collections_reserverun_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('posted', 'reversed') THEN
            RAISE EXCEPTION 'posted reserve run % is immutable: it cannot be deleted', OLD.id;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'reversed' THEN
        RAISE EXCEPTION 'reversed reserve run % is immutable', OLD.id;
    END IF;
    IF OLD.status = 'posted' THEN
        IF NEW.status <> 'reversed' OR NEW.reversal_entry_id IS NULL
           OR (NEWCOLS) IS DISTINCT FROM (OLDCOLS) THEN
            RAISE EXCEPTION 'posted reserve run % is immutable: reverse it and prepare a new one', OLD.id;
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""".replace("NEWCOLS", COLUMNS.format(p="NEW")).replace("OLDCOLS", COLUMNS.format(p="OLD"))


def _run(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: the % in RAISE stays as written
            cursor.execute(sql)


def _guard(apps, schema_editor):
    _run(schema_editor, GUARD)


def _old_guard(apps, schema_editor):
    _run(schema_editor, OLD_GUARD)


class Migration(migrations.Migration):

    dependencies = [
        ("collections_app", "0005_merge_20261206_0920"),
    ]

    operations = [
        migrations.AddField(
            model_name="reserverun",
            name="sheet_pdf",
            field=models.FileField(blank=True, help_text="The calculation sheet as posted (stored once, after posting)",
                                   upload_to="reserve/%Y/%m/"),
        ),
        migrations.AddField(
            model_name="reserverun",
            name="sheet_pdf_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(_guard, _old_guard),
    ]
