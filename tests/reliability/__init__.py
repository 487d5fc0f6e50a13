"""Whole-system evidence: money under load and faults."""
