"""Hostile input and authorization across every endpoint."""
