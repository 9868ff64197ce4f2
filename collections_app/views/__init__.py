"""Collections: thin HTML views, one module per area (worklist, dunning, reserve, write-offs...)."""
