"""Collections: forms validate shape; services validate meaning."""
