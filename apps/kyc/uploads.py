"""Checks on an uploaded identity document: size, type by content (magic bytes, never the
name or the client's header), a real decode, and a re-encode that drops metadata (EXIF, GPS)
and anything smuggled after the image data."""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from apps.kyc.errors import FileCorrupt, FileTooLarge, FileTypeNotAllowed

ALLOWED = {"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": None}


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str


def clean(data: bytes) -> CleanFile:
    if len(data) > settings.KYC_MAX_UPLOAD_BYTES:
        raise FileTooLarge(max_bytes=settings.KYC_MAX_UPLOAD_BYTES)
    kind = filetype.guess(data)
    content_type = kind.mime if kind else "unknown"
    if content_type not in ALLOWED:
        raise FileTypeNotAllowed(detected=content_type, allowed=sorted(ALLOWED))
    if content_type == "application/pdf":
        return CleanFile(_pdf(data), content_type)
    return CleanFile(_image(data, ALLOWED[content_type]), content_type)


def _pdf(data: bytes) -> bytes:
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if not reader.pages:
            raise FileCorrupt()
        reader.pages[0].extract_text()  # parses the first page's content stream
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise FileCorrupt() from exc
    return data


def _image(data: bytes, fmt: str) -> bytes:
    Image.MAX_IMAGE_PIXELS = settings.KYC_MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)  # keep the orientation, lose the EXIF
            out = io.BytesIO()
            if fmt == "JPEG":
                image.convert("RGB").save(out, format=fmt, quality=92)
            else:
                image.save(out, format=fmt)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise FileCorrupt() from exc
    return out.getvalue()
