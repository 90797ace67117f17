"""Wastewater: loads, campaigns, EUDA day rules and comparison."""
