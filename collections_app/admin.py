"""Collections: admin for administrators, never the main UI."""
