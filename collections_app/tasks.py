"""Collections: thin, idempotent Celery tasks calling services."""
from .tasks_writeoffs import small_balance_batches_propose  # noqa: F401,E402
