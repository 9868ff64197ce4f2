"""Billing: reads, reports and querysets."""
