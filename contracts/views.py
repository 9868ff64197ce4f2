"""Contracts: thin HTML views."""
