"""Billing: writes that matter (state transitions, postings, approvals)."""
