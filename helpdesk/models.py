"""Help desk: models arrive with their issue (see docs/ and docs/design.md)."""
