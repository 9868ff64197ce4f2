"""Register the daily dunning run and the daily credit-hold check in django-celery-beat
(idempotent: safe on every deploy). The credit-hold check goes first, so a customer paid
overnight is released before the run, and the run after the overnight bank statements."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from otc.schedules import beat_schedule_save

SCHEDULES = {
    "collections: credit holds (daily)": ("collections.credit_holds_daily", "0", "6"),
    "collections: dunning run (daily)": ("collections.dunning_daily", "30", "7"),
}


class Command(BaseCommand):
    help = "Create or update the beat schedules of the daily dunning run and credit-hold check."

    def handle(self, *args, **options):
        for name, (task_name, minute, hour) in SCHEDULES.items():
            task, created = beat_schedule_save(name=name, task=task_name, minute=minute, hour=hour, day_of_week="1-5")
            self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}': weekdays at {hour.zfill(2)}:{minute}.")
