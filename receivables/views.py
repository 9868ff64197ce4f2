"""Receivables: thin HTML views."""
