"""Help desk: thin, idempotent Celery tasks calling services."""
