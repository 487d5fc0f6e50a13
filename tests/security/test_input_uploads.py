"""Upload abuse on KYC documents, beyond what apps/kyc/tests/test_customer.py covers (an .exe,
HTML, a corrupt PDF, a cut JPEG, PNG+HTML, a 20000x20000 PNG, an over-limit file by setting):
archives and compression bombs, SVG, other image types, an image between one and two times
the pixel limit, PDFs with scripts, actions or attachments, a PDF/HTML polyglot, a JPEG with
HTML appended, wrong magic bytes, and a file over the real default limit. Each is refused
with its code and stores nothing, or is stored re-written without the smuggled bytes."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from apps.kyc.models import Case, Document
from apps.kyc.tests.factories import jpeg, pdf, png

pytestmark = pytest.mark.django_db
ALLOWED = ["application/pdf", "image/jpeg", "image/png"]
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
CORRUPT = {
    "error": {
        "code": "file_corrupt",
        "message": "The file could not be read; take a new photo or scan.",
        "details": {},
    }
}


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def app(auth_client):
    return auth_client(get_user_model().objects.create_user("uma@example.com", "pw"))


def upload(app, data: bytes, name: str = "id.png", content_type: str = "image/png"):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return app.post("/api/v1/kyc/documents", {"type": "passport", "file": file}, format="multipart")


def stored() -> bytes:
    with Document.objects.get().file.open("rb") as file:
        return file.read()


def not_allowed(detected: str) -> dict:
    return {
        "error": {
            "code": "file_type_not_allowed",
            "message": "Upload a JPEG, PNG or PDF.",
            "details": {"detected": detected, "allowed": ALLOWED},
        }
    }


def active(found: str) -> dict:
    return {
        "error": {
            "code": "file_active_content",
            "message": "PDFs with scripts, actions, forms or attachments are not accepted; "
            "upload a scan.",
            "details": {"found": found},
        }
    }


def image(mode: str, size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("passport.png", b"\0" * 20_000_000)  # ~20 KB on the wire
    return out.getvalue()


def pdf_with(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(kind: str):
    def change(writer: PdfWriter) -> None:
        action = DictionaryObject(
            {NameObject("/S"): NameObject(kind), NameObject("/F"): TextStringObject("calc.exe")}
        )
        writer._root_object[NameObject("/OpenAction")] = action

    return change


def _page_additional_actions(writer: PdfWriter) -> None:
    script = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")}
    )
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})


def _go_to_first_page(writer: PdfWriter) -> None:
    """What scanners write: open at page 1, fit to the window. Harmless."""
    page = writer.pages[0].indirect_reference
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [page, NameObject("/Fit"), NumberObject(0)]
    )


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (zip_bomb(), "application/zip"),
        (gzip.compress(b"\0" * 10_000_000), "application/gzip"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "unknown"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "unknown"),
        (image("RGB", (8, 8), "GIF"), "image/gif"),
        (image("RGB", (8, 8), "WEBP"), "image/webp"),
        (image("RGB", (8, 8), "TIFF"), "image/tiff"),
        (image("RGB", (8, 8), "BMP"), "image/bmp"),
        (HTML + png(), "unknown"),  # HTML first: the magic bytes decide, not the name
    ],
)
def test_other_types_are_refused_by_content(app, data, detected):
    response = upload(app, data)
    assert (response.status_code, response.json()) == (400, not_allowed(detected))
    assert not Document.objects.exists()
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"not a png" * 50,  # PNG magic, garbage after
        b"\xff\xd8\xff\xe0" + b"not a jpeg" * 50,  # JPEG magic, garbage after
        b"%PDF-1.7\n" + b"\x00" * 500,  # PDF magic, no document
        png()[:-12],  # the IEND chunk cut off
    ],
)
def test_right_magic_wrong_content_is_corrupt(app, data):
    response = upload(app, data)
    assert (response.status_code, response.json()) == (400, CORRUPT)
    assert not Document.objects.exists()


def test_an_image_between_one_and_two_times_the_pixel_limit_is_refused(app):
    """Pillow only warns there (and decodes it all) unless told otherwise: a 500 under pytest's
    filterwarnings=error, a 49-megapixel decode in production, before the fix."""
    side = int((settings.KYC_MAX_IMAGE_PIXELS * 1.2) ** 0.5)
    data = image("1", (side, side), "PNG")
    assert len(data) < 100_000  # a small file
    response = upload(app, data, name="big.png")
    assert (response.status_code, response.json()) == (400, CORRUPT)
    assert not Document.objects.exists()


def test_a_jpeg_declaring_huge_dimensions_is_refused(app):
    data = bytearray(jpeg(exif_gps=False, size=(16, 16)))
    sof = data.index(b"\xff\xc0")  # baseline frame header: length(2) precision(1) H(2) W(2)
    data[sof + 5 : sof + 9] = (60_000).to_bytes(2, "big") + (60_000).to_bytes(2, "big")
    response = upload(app, bytes(data), name="huge.jpg", content_type="image/jpeg")
    assert (response.status_code, response.json()) == (400, CORRUPT)
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda w: w.add_open_action(JavaScript("app.alert(1)")), "/JavaScript"),
        (_open_action("/Launch"), "/Launch"),
        (_open_action("/SubmitForm"), "/SubmitForm"),
        (_page_additional_actions, "/AA"),
        (lambda w: w.add_attachment("invoice.exe", b"MZ\x90\x00payload"), "/EmbeddedFiles"),
    ],
)
def test_pdfs_with_active_content_are_refused(app, change, found):
    response = upload(app, pdf_with(change), name="scan.pdf", content_type="application/pdf")
    assert (response.status_code, response.json()) == (400, active(found))
    assert not Document.objects.exists()


def test_a_plain_open_at_page_one_pdf_is_accepted(app):
    response = upload(
        app, pdf_with(_go_to_first_page), name="scan.pdf", content_type="application/pdf"
    )
    assert response.status_code == 201, response.json()
    assert len(PdfReader(io.BytesIO(stored())).pages) == 1


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(pdf() + HTML, "application/pdf"), (jpeg() + HTML, "image/jpeg"), (png() + HTML, "image/png")],
)
def test_polyglots_are_stored_without_the_appended_html(app, data, content_type):
    assert HTML in data
    response = upload(app, data, name="x.html")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type
    kept = stored()
    assert b"<script" not in kept
    assert b"<html" not in kept
    assert response.json()["size"] == len(kept) < len(data)


def test_a_file_over_the_default_limit_is_refused_before_it_is_read(app):
    data = png() + b"\0" * settings.KYC_MAX_UPLOAD_BYTES
    response = upload(app, data)
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "code": "file_too_large",
                "message": "The file is too large.",
                "details": {"max_bytes": settings.KYC_MAX_UPLOAD_BYTES},
            }
        },
    )
    assert not Document.objects.exists()
