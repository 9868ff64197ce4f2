"""One way to register a django-celery-beat schedule (the `*_schedule` commands and the
`--schedule` options): idempotent, so safe on every deploy."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def beat_schedule_save(*, name: str, task: str, minute: str | int, hour: str | int, day_of_week: str = "*",
                       day_of_month: str = "*") -> tuple[Any, bool]:
    """Create or update the periodic task `name`: it runs `task` (no arguments) on the crontab, in
    the project's time zone, enabled. Returns (the PeriodicTask, whether it was created)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(minute), hour=str(hour), day_of_week=day_of_week, day_of_month=day_of_month, month_of_year="*",
        timezone=settings.TIME_ZONE)
    return PeriodicTask.objects.update_or_create(
        name=name, defaults={"task": task, "crontab": crontab, "interval": None, "enabled": True, "kwargs": "{}"})
