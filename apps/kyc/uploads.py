"""Checks on an uploaded identity document: size, type by content (magic bytes, never the
name or the client's header), a real decode, and a re-encode that drops metadata (EXIF, GPS)
and anything smuggled after the image data. PDFs with active content (scripts, actions,
attachments, forms) are refused; the rest are rewritten, which drops bytes appended after
the document (a PDF/HTML polyglot)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any, cast

import filetype
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from apps.kyc.errors import FileActiveContent, FileCorrupt, FileTooLarge, FileTypeNotAllowed

ALLOWED = {"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": None}
# Keys that give a PDF behaviour (scripts, automatic actions, attachments, XFA forms)...
_ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EmbeddedFile", "/XFA"}
_ACTIVE_KEYS |= {"/RichMedia"}
# ...and action types that run something (a plain /OpenAction to a page is fine).
_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute"}
_ACTIVE_ACTIONS |= {"/GoToE"}


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
    return CleanFile(_image(data, cast(str, ALLOWED[content_type])), content_type)


def _pdf(data: bytes) -> bytes:
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if not reader.pages:
            raise FileCorrupt()
        reader.pages[0].extract_text()  # parses the first page's content stream
        found = _active_content(reader.trailer)
        if found:
            raise FileActiveContent(found=found)
        out = io.BytesIO()
        PdfWriter(clone_from=reader).write(out)  # only what the document references
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise FileCorrupt() from exc
    return out.getvalue()


def _active_content(root: Any) -> str | None:
    """The first key or action type that makes the PDF do something, walking every object
    reachable from the trailer once."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, IndirectObject):
            if (value.idnum, value.generation) in seen:
                continue
            seen.add((value.idnum, value.generation))
            value = value.get_object()
        if isinstance(value, DictionaryObject):  # streams are dictionaries too
            for key, item in value.items():
                if key in _ACTIVE_KEYS:
                    return str(key)
                if key == "/S" and item in _ACTIVE_ACTIONS:
                    return str(item)
                stack.append(item)
        elif isinstance(value, ArrayObject):
            stack.extend(value)
    return None


def _image(data: bytes, fmt: str) -> bytes:
    Image.MAX_IMAGE_PIXELS = settings.KYC_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS and raises above: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)  # type: ignore[assignment]  # keep the orientation, lose the EXIF
            out = io.BytesIO()
            if fmt == "JPEG":
                image.convert("RGB").save(out, format=fmt, quality=92)
            else:
                image.save(out, format=fmt)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise FileCorrupt() from exc
    return out.getvalue()
