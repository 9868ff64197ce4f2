"""Learned payer-name aliases are keyed by `normalize_payer`, which now also reads legal forms spelled
out ("GESELLSCHAFT MIT BESCHRAENKTER HAFTUNG" is GmbH, "SOCIEDAD ANONIMA" is S.A.): re-key them
(issue 13), merging duplicates as 0002 did."""

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
    dependencies = [("receivables", "0005_aging_policy_snapshots_report_packs")]
    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
