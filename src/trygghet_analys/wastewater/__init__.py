"""Wastewater: loads, campaigns, campaign-level tests, EUDA day rules and comparison."""
