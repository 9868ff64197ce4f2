"""Learned payer-name aliases are keyed by `normalize_payer`, which now also drops the noise banks and
AP departments add ("PAYMENT FROM ...", "... AP DEPT", "... ACCOUNTS PAYABLE"): re-key them."""

from django.db import migrations


def rekey(apps, schema_editor):
    from receivables.matching.names import normalize_payer

    PayerAlias = apps.get_model("receivables", "PayerAlias")
    seen = set(PayerAlias.objects.filter(kind="name").values_list("value", "customer_id"))
    for alias in PayerAlias.objects.filter(kind="name").order_by("pk"):
        key = normalize_payer(alias.value)[:200]
        if not key or key == alias.value:
            continue
        if (key, alias.customer_id) in seen:
            alias.delete()
            continue
        seen.add((key, alias.customer_id))
        alias.value = key
        alias.save(update_fields=["value"])


class Migration(migrations.Migration):
    dependencies = [("receivables", "0001_receipts")]
    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
