"""Shared pieces of management commands: a dry run that really runs and then rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction


class _Rollback(Exception):
    pass


@contextmanager
def maybe_dry_run(dry_run: bool) -> Iterator[None]:
    """Run the body in one transaction; on a dry run, undo it all at the end (the output shows
    what would happen, computed by the same code)."""
    try:
        with transaction.atomic():
            yield
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
