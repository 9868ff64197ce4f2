"""Receivables: thin, idempotent Celery tasks calling services."""
