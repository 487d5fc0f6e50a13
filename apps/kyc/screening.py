"""Sanctions and PEP screening: the profile's name against the watch list, fuzzy (word order
and small spelling differences tolerated); a date of birth on the list that differs rules a
candidate out."""

from __future__ import annotations

import hashlib

from django.conf import settings
from rapidfuzz import fuzz, utils

from apps.kyc.models import Profile, WatchlistEntry


def candidates(profile: Profile) -> list[tuple[WatchlistEntry, int]]:
    name = f"{profile.legal_first_name} {profile.legal_last_name}"
    hits = []
    for entry in WatchlistEntry.objects.all().iterator():
        score = fuzz.token_sort_ratio(name, entry.name, processor=utils.default_process)
        if score < settings.KYC_SCREENING_THRESHOLD:
            continue
        if entry.date_of_birth and entry.date_of_birth != profile.date_of_birth:
            continue
        hits.append((entry, int(score)))
    return hits


def fingerprint(entry: WatchlistEntry) -> str:
    """What a decision on a hit was about: the entry's matching data. A new list that keeps
    an entry as it was keeps its decisions; one that changes it asks for a new decision."""
    parts = (
        entry.name.strip().casefold(),
        entry.list_name.strip().casefold(),
        entry.country.upper(),
        entry.date_of_birth.isoformat() if entry.date_of_birth else "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
