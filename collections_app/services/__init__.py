"""Collections writes, one module per concern (disputes, promises, dunning, reserve, write-offs)."""
