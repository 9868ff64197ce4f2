"""The beat schedules of the daily dunning run and credit-hold check, registered idempotently,
and their tasks run the services."""

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from otc.celery import app

pytestmark = pytest.mark.django_db


def test_dunning_schedule_registers_both_daily_tasks_once():
    call_command("dunning_schedule")
    call_command("dunning_schedule")
    tasks = dict(PeriodicTask.objects.filter(name__startswith="collections:").values_list("name", "task"))
    assert tasks == {"collections: credit holds (daily)": "collections.credit_holds_daily",
                     "collections: dunning run (daily)": "collections.dunning_daily"}
    import collections_app.tasks  # noqa: F401 - what the worker's autodiscovery imports

    for name in tasks.values():
        assert name in app.tasks
    dunning = PeriodicTask.objects.get(task="collections.dunning_daily")
    assert (dunning.crontab.hour, dunning.crontab.minute, dunning.crontab.day_of_week) == ("7", "30", "1-5")


def test_the_daily_tasks_run_with_nothing_to_do():
    from collections_app.tasks_dunning import credit_holds_daily_task, dunning_daily_task

    assert dunning_daily_task.apply().get() == []
    assert credit_holds_daily_task.apply().get() == {"placed": 0, "released": 0}
