"""Register the daily promises task in django-celery-beat (idempotent: safe on every deploy):
promises kept or broken, disputes closed by their issued credit notes."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from otc.schedules import beat_schedule_save

TASK_NAME = "collections: promises kept or broken, disputes closed by credit notes"


class Command(BaseCommand):
    help = "Create or update the beat schedule for collections.promises_daily (daily, default 06:15)."

    def add_arguments(self, parser):
        parser.add_argument("--hour", type=int, default=6)
        parser.add_argument("--minute", type=int, default=15)

    def handle(self, *args, hour=6, minute=15, **options):
        task, created = beat_schedule_save(name=TASK_NAME, task="collections.promises_daily", minute=minute, hour=hour)
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' daily at {hour:02d}:{minute:02d}.")
