"""KYC test helpers: tier limits, a complete profile, real image and PDF files."""

from __future__ import annotations

import io
from datetime import date
from uuid import UUID

from django.contrib.auth import get_user_model
from PIL import Image

from apps.kyc.models import TierLimit


def set_limits(level: int = 0, currency: str = "EUR", **limits: int) -> None:
    """Change a tier's limits (minor units), as compliance staff would in the admin."""
    TierLimit.objects.filter(tier_id=level, currency=currency).update(**limits)


PROFILE = {
    "legal_first_name": "Karla",
    "legal_last_name": "Kovacs",
    "date_of_birth": "1990-04-12",
    "nationality": "DE",
    "address_line": "Hauptstrasse 1",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "tax_id": "DE 123 456 789",
}


def profile_fields(**changes: object) -> dict:
    fields = {**PROFILE, **changes}
    fields["date_of_birth"] = date.fromisoformat(str(fields["date_of_birth"]))
    return fields


def jpeg(exif_gps: bool = True, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "SpyCam Inc"  # Make
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}  # GPSInfo
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 120, 0)).save(out, format="PNG")
    return out.getvalue()


def pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def verified_phone(user_id: int, phone: str = "+4915112340000") -> None:
    get_user_model().objects.filter(pk=user_id).update(phone=phone, phone_verified=True)


def watchlist_entry(name: str, list_name: str = "EU sanctions") -> None:
    from apps.kyc.models import WatchlistEntry

    WatchlistEntry.objects.create(name=name, list_name=list_name)


def draft_case(user_id: int, target_tier: int = 2) -> UUID:
    """An open draft case (as a first upload opens one), without files; returns its id."""
    from apps.kyc.models import Case

    return Case.objects.create(user_id=user_id, target_tier_id=target_tier).pk
