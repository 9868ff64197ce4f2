"""Collections: thin, idempotent Celery tasks calling services."""
