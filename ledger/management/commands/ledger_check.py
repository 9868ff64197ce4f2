"""`manage.py ledger_check`: print the AR reconciliation and the trial balance totals of every
legal entity; exit non-zero on any difference (for operators and CI)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from otc.money import format_amount

from ...models import LegalEntity
from ...selectors import ar_reconciliation, trial_balance


class Command(BaseCommand):
    help = "Check that AR control equals the sum of open items and that every trial balance is zero."

    def add_arguments(self, parser):
        parser.add_argument("--entity", help="Only this legal entity code.")

    def handle(self, *args, entity: str | None = None, **options):
        entities = LegalEntity.objects.order_by("code")
        if entity:
            entities = entities.filter(code=entity)
            if not entities.exists():
                raise CommandError(f"No legal entity {entity!r}.")
        problems = 0
        self.stdout.write("AR reconciliation (ledger balance vs open items):")
        for entity_obj in entities:
            for row in ar_reconciliation(legal_entity_id=entity_obj.id):
                cur, bad = row["currency"], row["difference"] != 0
                problems += bad
                self.stdout.write(
                    f"  {entity_obj.code} {row['account'].code} {cur}: ledger {format_amount(row['ledger_balance'], cur)}"
                    f" open items {format_amount(row['open_items_total'], cur)} ({row['open_items_count']})"
                    f" difference {format_amount(row['difference'], cur)}{'  <-- DIFFERENCE' if bad else ''}"
                )
        self.stdout.write("Trial balance totals (functional currency):")
        for entity_obj in entities:
            report = trial_balance(legal_entity_id=entity_obj.id, date_to=dt.date.max)
            cur, bad = report.currency, report.total_balance != 0
            problems += bad
            self.stdout.write(
                f"  {entity_obj.code} {cur}: debit {format_amount(report.total_debit, cur)} credit "
                f"{format_amount(report.total_credit, cur)} difference {format_amount(report.total_balance, cur)}"
                f"{'  <-- DIFFERENCE' if bad else ''}"
            )
        if problems:
            raise CommandError(f"{problems} difference(s) found.")
        self.stdout.write(self.style.SUCCESS("Ledger in balance."))
