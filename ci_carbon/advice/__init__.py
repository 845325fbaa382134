"""Mitigation advice: recommendations with estimated savings in kg CO2eq."""
