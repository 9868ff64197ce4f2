"""Collections: reads, reports and querysets."""
