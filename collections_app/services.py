"""Collections: writes that matter (state transitions, postings, approvals)."""
