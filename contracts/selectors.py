"""Contracts: reads, reports and querysets."""
