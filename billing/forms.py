"""Billing: forms validate shape; services validate meaning."""
