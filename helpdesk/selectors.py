"""Help desk: reads, reports and querysets."""
