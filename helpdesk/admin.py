"""Help desk: admin for administrators, never the main UI."""
