"""Billing: models arrive with their issue (see docs/ and ../shared/DESIGN.md)."""
