"""Deterministic synthetic sample data (survey, wastewater, registers)."""
