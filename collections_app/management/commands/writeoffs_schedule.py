"""Register the monthly small-balance write-off proposal in django-celery-beat (idempotent: safe on
every deploy)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from otc.schedules import beat_schedule_save

TASK_NAME = "collections: propose small-balance write-offs"


class Command(BaseCommand):
    help = ("Create or update the beat schedule for collections.small_balance_batches_propose (the 1st of each "
            "month at 06:00: one batch per entity whose small-balance policy is on; a month has one batch).")

    def handle(self, *args, **options):
        task, created = beat_schedule_save(name=TASK_NAME, task="collections.small_balance_batches_propose",
                                           minute="0", hour="6", day_of_month="1")
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' monthly on the 1st at 06:00.")
