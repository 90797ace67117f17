"""Statistics: design-based estimation, changes and trends, disclosure control."""
