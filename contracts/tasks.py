"""Contracts: thin, idempotent Celery tasks calling services."""
