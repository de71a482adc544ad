"""Suggested case fields from what a caller said: enterprise, contact, phones, USCC, area, town."""
