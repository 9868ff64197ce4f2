"""Help desk: writes that matter (state transitions, postings, approvals)."""
