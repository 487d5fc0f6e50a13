"""The customer's side over the API: profile, documents (checked by content), submit and
status; the tier 1 auto-approval; PII encrypted at rest."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from apps.kyc.models import Document, Profile
from apps.kyc.tests.factories import PROFILE, jpeg, pdf, png, verified_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("karla@example.com", "pw")


@pytest.fixture
def app(auth_client, user):
    return auth_client(user)


def stored() -> bytes:
    with Document.objects.get().file.open("rb") as file:
        return file.read()


def upload(app, data: bytes, name="id.jpg", type_="passport", **extra):
    file = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return app.post(
        "/api/v1/kyc/documents", {"type": type_, "file": file, **extra}, format="multipart"
    )


def test_profile_round_trip_and_tax_id_encrypted_at_rest(app, user):
    assert app.put("/api/v1/kyc/profile", PROFILE, format="json").status_code == 200
    assert app.get("/api/v1/kyc/profile").json()["tax_id"] == "DE 123 456 789"
    with connection.cursor() as cursor:
        cursor.execute("SELECT tax_id FROM kyc_profile WHERE user_id = %s", [user.pk])
        raw = cursor.fetchone()[0]
    assert "123 456" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert Profile.objects.get(user=user).tax_id == "DE 123 456 789"


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"date_of_birth": "2015-01-01"}, None, "too_young"),
        ({"nationality": "XX"}, "nationality", "validation_error"),
        ({"date_of_birth": "12/04/1990"}, "date_of_birth", "validation_error"),
        ({"tax_id": "<script>"}, "tax_id", "validation_error"),
    ],
)
def test_profile_refusals_write_nothing(app, user, changes, field, code):
    response = app.put("/api/v1/kyc/profile", {**PROFILE, **changes}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    if field:
        assert field in response.json()["error"]["details"]
    assert not Profile.objects.filter(user=user).exists()


def test_an_image_is_re_encoded_without_its_metadata(app):
    original = jpeg(exif_gps=True)
    assert b"SpyCam" in original  # the test file really carries metadata
    response = upload(app, original)
    assert response.status_code == 201, response.json()
    stored_bytes = stored()
    with Image.open(io.BytesIO(stored_bytes)) as image:
        assert dict(image.getexif()) == {}
    assert b"SpyCam" not in stored_bytes


def test_bytes_smuggled_after_an_image_are_dropped(app):
    response = upload(app, png() + b"<html><script>alert(1)</script></html>", name="x.png")
    assert response.status_code == 201
    assert b"<script>" not in stored()


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"MZ\x90\x00" + b"\x00" * 200, "passport.jpg", "file_type_not_allowed"),  # an .exe
        (b"<html>not a photo</html>", "photo.jpg", "file_type_not_allowed"),
        (b"%PDF-1.7\n1 0 obj garbage", "scan.pdf", "file_corrupt"),
        (jpeg()[:200], "cut.jpg", "file_corrupt"),
    ],
)
def test_bad_files_are_refused_by_their_content(app, data, name, code):
    response = upload(app, data, name=name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Document.objects.exists()


def test_an_oversized_file_is_refused(app, settings):
    settings.KYC_MAX_UPLOAD_BYTES = 1_000
    response = upload(app, jpeg(size=(400, 400)))
    assert (response.status_code, response.json()["error"]["code"]) == (400, "file_too_large")


def test_a_decompression_bomb_is_refused(app):
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")  # small file, huge image
    response = upload(app, out.getvalue(), name="bomb.png")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "file_corrupt")


def test_a_pdf_is_accepted_and_listed(app):
    assert upload(app, pdf(), name="bill.pdf", type_="proof_of_address").status_code == 201
    listed = app.get("/api/v1/kyc/documents").json()["results"]
    assert [(d["type"], d["content_type"], d["review"]) for d in listed] == [
        ("proof_of_address", "application/pdf", "pending")
    ]


def test_tier_1_is_auto_approved_with_a_profile_and_a_verified_phone(app, user):
    status = app.get("/api/v1/kyc/status").json()
    assert (status["tier"], status["missing_for_next_tier"]) == (0, ["profile", "verified_phone"])
    refused = app.post("/api/v1/kyc/submit", {"tier": 1}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "profile_incomplete")
    app.put("/api/v1/kyc/profile", PROFILE, format="json")
    refused = app.post("/api/v1/kyc/submit", {"tier": 1}, format="json")
    assert refused.json()["error"]["code"] == "documents_missing"
    assert refused.json()["error"]["details"]["missing"] == ["verified_phone"]
    verified_phone(user.pk)
    done = app.post("/api/v1/kyc/submit", {"tier": 1}, format="json")
    assert done.status_code == 200
    assert (done.json()["tier"], done.json()["case"]["state"]) == (1, "approved")
    assert done.json()["can_withdraw"] is True
    assert app.get("/api/v1/me").json()["kyc_tier"] == 1


def test_tier_2_lists_what_is_missing_then_goes_to_the_vendor(app, user):
    app.put("/api/v1/kyc/profile", PROFILE, format="json")
    verified_phone(user.pk)
    refused = app.post("/api/v1/kyc/submit", {"tier": 2}, format="json")
    assert refused.json()["error"]["details"]["missing"] == [
        "identity_document",
        "selfie",
        "proof_of_address",
    ]
    upload(app, jpeg(), type_="national_id_front")
    upload(app, jpeg(), type_="national_id_back")
    upload(app, jpeg(), type_="selfie")
    upload(app, pdf(), name="bill.pdf", type_="proof_of_address")
    submitted = app.post("/api/v1/kyc/submit", {"tier": 2}, format="json")
    assert submitted.status_code == 200
    assert submitted.json()["case"]["state"] == "submitted"
    assert submitted.json()["tier"] == 0
