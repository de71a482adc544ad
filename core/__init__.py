"""Shared infrastructure: configuration, database, clock."""
