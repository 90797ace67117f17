"""Report: figures, chart registry, HTML, chart book and xlsx (reads processed tables only)."""
