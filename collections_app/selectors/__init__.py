"""Collections reads, one module per concern."""
