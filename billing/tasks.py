"""Billing: thin, idempotent Celery tasks calling services."""
