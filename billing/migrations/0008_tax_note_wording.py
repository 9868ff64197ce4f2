"""Reference tax codes created before the wording review keep the text they were created with
(seed_tax_codes never changes a row): replace the US note that read "(placeholder)" so that no new
document prints it. Issued PDFs keep what they were issued with."""

from django.db import migrations

OLD_US_NOTE = "No US sales tax charged: SaaS supplied without nexus in the customer's state (placeholder)"
US_NOTE = "No sales tax charged: the purchaser is responsible for any sales or use tax due in its state."


def reword(apps, schema_editor):
    TaxCode = apps.get_model("billing", "TaxCode")
    TaxCode.objects.filter(legal_note=OLD_US_NOTE).update(legal_note=US_NOTE)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0007_line_insert_guard_per_statement"),
    ]

    operations = [
        migrations.RunPython(reword, migrations.RunPython.noop),
    ]
