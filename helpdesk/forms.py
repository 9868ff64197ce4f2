"""Help desk: forms validate shape; services validate meaning."""
