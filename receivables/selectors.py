"""Receivables: reads, reports and querysets."""
