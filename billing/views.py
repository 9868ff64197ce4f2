"""Billing: thin HTML views."""
