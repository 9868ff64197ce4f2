"""Contracts: forms validate shape; services validate meaning."""
