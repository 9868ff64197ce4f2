"""Collections: thin, idempotent Celery tasks calling services."""
from .tasks_promises import notify_broken_promises, promises_daily_task  # noqa: F401,E402  (i10a: beat autodiscovery)
