"""Collections: thin HTML views."""
