"""Collections: thin, idempotent Celery tasks calling services."""
from collections_app.tasks_dunning import *  # noqa: E402,F401,F403 - dunning, credit holds, agency (i10b)
from collections_app.tasks_reserve import reserve_monthly_task  # noqa: E402, F401

from .tasks_promises import notify_broken_promises, promises_daily_task  # noqa: F401,E402  (i10a: beat autodiscovery)
from .tasks_writeoffs import small_balance_batches_propose  # noqa: F401,E402
