"""Help desk: thin HTML views."""
