"""Hostile input and authorization across every endpoint (issue 11)."""
