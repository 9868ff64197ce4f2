"""Issued invoices and credit notes, their lines and their delivery records are immutable in the
database (PostgreSQL), column-aware, as the journal is (ledger 0002):

- billing_invoice: a draft changes freely; once issued only the columns the services move may
  change (status, amounts paid and credited, the void stamps, updated_at); the stored PDF and the
  stored VOID copy are written once; an issued invoice never returns to draft, a void one never
  moves; DELETE of an issued invoice is refused.
- billing_creditnote: once issued only its PDF (once) may be written; DELETE refused.
- billing_invoiceline / billing_creditnoteline: no INSERT, UPDATE or DELETE under an issued document.
- billing_delivery: the delivery log is written once (no UPDATE or DELETE).
- billing_portalsubmission: the workflow moves; the document, customer, portal and due date
  never change; DELETE refused.
- TRUNCATE of any of these tables is refused (a statement-level trigger), unless the session
  deliberately sets `otc.allow_truncate` to 'on' (the test suite's flush does; see
  docs/decisions/0007-document-integrity.md).

SQLite relies on the model and queryset guard (billing.models.DocumentGuard).
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger AS $$
DECLARE
    movable text[] := ARRAY['status', 'amount_paid', 'amount_credited', 'updated_at', 'voided_by_id', 'voided_at',
                            'void_reason', 'void_entry_id', 'void_credit_note_id', 'pdf', 'pdf_sha256', 'void_pdf',
                            'void_pdf_sha256'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'issued invoice % is immutable: it cannot be deleted (credit or void it)', OLD.number;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF NEW.status = 'draft' THEN
        RAISE EXCEPTION 'issued invoice % is immutable: it cannot return to draft', OLD.number;
    END IF;
    IF (to_jsonb(NEW) - movable) IS DISTINCT FROM (to_jsonb(OLD) - movable) THEN
        RAISE EXCEPTION 'issued invoice % is immutable: its printed columns cannot change', OLD.number;
    END IF;
    IF OLD.pdf_sha256 <> '' AND (NEW.pdf, NEW.pdf_sha256) IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256) THEN
        RAISE EXCEPTION 'issued invoice % is immutable: its stored PDF cannot change', OLD.number;
    END IF;
    IF OLD.void_pdf_sha256 <> '' AND (NEW.void_pdf, NEW.void_pdf_sha256)
            IS DISTINCT FROM (OLD.void_pdf, OLD.void_pdf_sha256) THEN
        RAISE EXCEPTION 'issued invoice % is immutable: its stored VOID copy cannot change', OLD.number;
    END IF;
    IF OLD.status = 'void' AND (NEW.status, NEW.amount_paid, NEW.amount_credited, NEW.voided_by_id, NEW.voided_at,
                                NEW.void_reason, NEW.void_entry_id, NEW.void_credit_note_id)
            IS DISTINCT FROM (OLD.status, OLD.amount_paid, OLD.amount_credited, OLD.voided_by_id, OLD.voided_at,
                              OLD.void_reason, OLD.void_entry_id, OLD.void_credit_note_id) THEN
        RAISE EXCEPTION 'void invoice % is immutable', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_creditnote_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'issued' THEN
            RAISE EXCEPTION 'issued credit note % is immutable: it cannot be deleted', OLD.number;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'issued' THEN
        RETURN NEW;
    END IF;
    IF (to_jsonb(NEW) - ARRAY['pdf', 'pdf_sha256']) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['pdf', 'pdf_sha256'])
            OR (OLD.pdf_sha256 <> '' AND (NEW.pdf, NEW.pdf_sha256) IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256)) THEN
        RAISE EXCEPTION 'issued credit note % is immutable', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_invoiceline_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
            AND EXISTS (SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status <> 'draft') THEN
        RAISE EXCEPTION 'the lines of an issued invoice are immutable';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
            AND EXISTS (SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND status <> 'draft') THEN
        RAISE EXCEPTION 'the lines of an issued invoice are immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_creditnoteline_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
            AND EXISTS (SELECT 1 FROM billing_creditnote WHERE id = OLD.credit_note_id AND status = 'issued') THEN
        RAISE EXCEPTION 'the lines of an issued credit note are immutable';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
            AND EXISTS (SELECT 1 FROM billing_creditnote WHERE id = NEW.credit_note_id AND status = 'issued') THEN
        RAISE EXCEPTION 'the lines of an issued credit note are immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_delivery_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the delivery log is immutable: a retry writes its own row';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_portalsubmission_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'portal submissions are immutable: they cannot be deleted';
    END IF;
    IF (NEW.invoice_id, NEW.credit_note_id, NEW.customer_id, NEW.portal, NEW.due_date, NEW.created_at)
            IS DISTINCT FROM (OLD.invoice_id, OLD.credit_note_id, OLD.customer_id, OLD.portal, OLD.due_date,
                              OLD.created_at) THEN
        RAISE EXCEPTION 'portal submissions are immutable: only their workflow moves';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('otc.allow_truncate', true), '') <> 'on' THEN
        RAISE EXCEPTION '% holds issued documents: TRUNCATE is refused (they are immutable)', TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();
CREATE TRIGGER billing_creditnote_immutable BEFORE UPDATE OR DELETE ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_creditnote_guard();
CREATE TRIGGER billing_invoiceline_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_guard();
CREATE TRIGGER billing_creditnoteline_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_creditnoteline
    FOR EACH ROW EXECUTE FUNCTION billing_creditnoteline_guard();
CREATE TRIGGER billing_delivery_immutable BEFORE UPDATE OR DELETE ON billing_delivery
    FOR EACH ROW EXECUTE FUNCTION billing_delivery_guard();
CREATE TRIGGER billing_portalsubmission_immutable BEFORE UPDATE OR DELETE ON billing_portalsubmission
    FOR EACH ROW EXECUTE FUNCTION billing_portalsubmission_guard();
"""
TABLES = ["billing_invoice", "billing_invoiceline", "billing_creditnote", "billing_creditnoteline",
          "billing_delivery", "billing_portalsubmission"]
TRUNCATE = "\n".join(
    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION billing_refuse_truncate();" for table in TABLES)
REVERSE = "\n".join(
    [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};" for table in TABLES]
    + [f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in TABLES]
    + [f"DROP FUNCTION IF EXISTS {name}();" for name in (
        "billing_invoice_guard", "billing_creditnote_guard", "billing_invoiceline_guard",
        "billing_creditnoteline_guard", "billing_delivery_guard", "billing_portalsubmission_guard",
        "billing_refuse_truncate")])


def _run(schema_editor, sql: str) -> None:
    with schema_editor.connection.cursor() as cursor:  # no parameters: the % in RAISE stays as written
        cursor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, SQL)
        _run(schema_editor, TRUNCATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, REVERSE)


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_invoice_void_documents")]
    operations = [migrations.RunPython(forwards, backwards)]
