"""Collections: thin, idempotent Celery tasks calling services."""

from collections_app.tasks_dunning import *  # noqa: E402,F401,F403 - dunning, credit holds, agency (i10b)
