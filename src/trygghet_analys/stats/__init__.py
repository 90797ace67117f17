"""Statistics: design-based estimation, changes and trends, disclosure control, reliability
(NCHS), effect estimates (difference in differences)."""
