"""Operators' command for the bad-debt reserve: prepare a run (an entity and date, or every entity
whose last month-end is due), or register the beat schedule (`--schedule`): the monthly reserve
check daily at 03:00, after the nightly aging snapshot."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from otc.errors import DomainError
from otc.schedules import beat_schedule_save

SCHEDULES = {
    "Bad-debt reserve (monthly, after the month-end aging snapshot)": ("collections.reserve_monthly", "0", "3"),
}


class Command(BaseCommand):
    help = "Prepare the bad-debt reserve run, or register its beat schedule."

    def add_arguments(self, parser):
        parser.add_argument("--entity", help="Legal entity code (with --as-of)")
        parser.add_argument("--as-of", type=dt.date.fromisoformat)
        parser.add_argument("--schedule", action="store_true", help="Create or update the beat task (idempotent)")

    def handle(self, *args, entity=None, as_of=None, schedule=False, **options):
        if schedule:
            return self._schedule()
        from collections_app.services.reserve import reserve_monthly_due, reserve_run_prepare
        from ledger.models import LegalEntity

        try:
            if entity:
                legal_entity = LegalEntity.objects.filter(code=entity).first()
                if legal_entity is None or as_of is None:
                    raise CommandError("Give an existing --entity code and --as-of.")
                run = reserve_run_prepare(legal_entity_id=legal_entity.id, as_of=as_of, by=None)
                self.stdout.write(f"{run}: required {run.required_total}, true-up {run.adjustment}.")
            else:
                self.stdout.write(f"Prepared runs: {reserve_monthly_due()}.")
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _schedule(self) -> None:

        for name, (task_name, minute, hour) in SCHEDULES.items():
            task, created = beat_schedule_save(name=name, task=task_name, minute=minute, hour=hour)
            self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}': daily at {hour.zfill(2)}:{minute}.")
