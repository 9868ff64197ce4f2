"""The invoice guard (billing 0006, 0009) is called only for a row that is no longer a draft: the
trigger's `WHEN (OLD.status <> 'draft')`. For a draft the function returned at once (an UPDATE of a
draft may change anything; deleting a draft is allowed), so the rule is unchanged; the month-end
run updates every draft twice (numbers, then issued) and each update called the PL/pgSQL function
for nothing (30,686 calls, 60 ms of backend CPU per 15,343 invoices: decision 0016, session 13)."""

from django.db import migrations

from otc.migration_operations import PostgresSQL

SQL = r"""
DROP TRIGGER billing_invoice_immutable ON billing_invoice;
CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW WHEN (OLD.status <> 'draft') EXECUTE FUNCTION billing_invoice_guard();
"""
REVERSE = r"""
DROP TRIGGER billing_invoice_immutable ON billing_invoice;
CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0013_redundant_fk_indexes")]
    operations = [PostgresSQL(SQL, REVERSE)]
