"""Receivables: forms validate shape; services validate meaning."""
