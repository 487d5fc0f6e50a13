"""Compliance reviews in the real admin; operations and customers cannot."""

import pytest
import tablib
from django.contrib.auth import get_user_model
from import_export.resources import modelresource_factory

from apps.accounts import services as accounts_services
from apps.kyc import services
from apps.kyc.models import Case, WatchlistEntry
from apps.kyc.tests.factories import jpeg, pdf, profile_fields, verified_phone

pytestmark = pytest.mark.django_db


def staff(email, role):
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(email=email, role=role, password="pw")
    )


@pytest.fixture
def case():
    user = get_user_model().objects.create_user("karla@example.com", "pw")
    services.profile_save(user_id=user.pk, **profile_fields())
    verified_phone(user.pk)
    for kind, data in (("passport", jpeg()), ("selfie", jpeg()), ("proof_of_address", pdf())):
        services.document_add(user_id=user.pk, type=kind, data=data)
    return Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=2))


def act(client, action, case, **extra):
    return client.post(
        "/admin/kyc/case/", {"action": action, "_selected_action": [case.pk], **extra}
    )


def test_compliance_reviews_a_case_in_the_admin(client, otp_login, case):
    otp_login(client, staff("ana@finstack.test", "compliance"))
    queue = client.get("/admin/kyc/case/?state__exact=submitted")
    assert queue.status_code == 200
    assert b"karla@example.com" in queue.content
    page = client.get(f"/admin/kyc/case/{case.pk}/change/")
    assert page.status_code == 200
    assert b"Karla Kovacs, born 1990-04-12" in page.content
    passport = case.documents.get(type="passport")
    image = client.get(f"/admin/kyc/case/{case.pk}/documents/{passport.pk}/")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:2] == b"\xff\xd8"

    act(client, "assign_to_me", case)
    case.refresh_from_db()
    assert (case.state, case.assigned_to.email) == ("in_review", "ana@finstack.test")
    form = act(client, "request_resubmission", case)
    assert b"selfie_mismatch" in form.content  # the reason form
    act(
        client, "request_resubmission", case, apply="1", reason="document_unreadable", note="blurry"
    )
    case.refresh_from_db()
    assert case.state == "needs_resubmission"
    assert set(case.documents.values_list("review", flat=True)) == {"resubmit"}
    assert case.trail.last().staff_note == "blurry"


def test_four_eyes_through_the_admin(client, otp_login, case):
    ana, ben = staff("ana@finstack.test", "compliance"), staff("ben@finstack.test", "compliance")
    otp_login(client, ana)
    act(client, "assign_to_me", case)
    act(client, "approve", case)
    act(client, "approve", case)  # the same person again: refused
    case.refresh_from_db()
    assert case.state == "pending_second_review"
    client.logout()
    otp_login(client, ben)
    act(client, "approve", case)
    case.refresh_from_db()
    assert case.state == "approved"


def test_operations_cannot_review_and_customers_never_reach_the_admin(client, otp_login, case):
    otp_login(client, staff("ops@finstack.test", "operations"))
    assert client.get("/admin/kyc/case/").status_code == 403
    passport = case.documents.get(type="passport")
    assert client.get(f"/admin/kyc/case/{case.pk}/documents/{passport.pk}/").status_code == 403
    act(client, "approve", case)
    case.refresh_from_db()
    assert case.state == "submitted"
    client.logout()
    customer = get_user_model().objects.get(email="karla@example.com")
    client.force_login(customer)
    response = client.get(f"/admin/kyc/case/{case.pk}/documents/{passport.pk}/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_documents_are_not_under_a_public_url(client, case):
    passport = case.documents.get(type="passport")
    assert "/" not in passport.file.name.rsplit("kyc/", 1)[-1].split("/", 1)[-1]
    assert client.get(f"/media/{passport.file.name}").status_code == 404


def test_the_watch_list_loads_from_a_spreadsheet():
    data = tablib.Dataset(headers=["name", "list_name", "country", "date_of_birth"])
    data.append(["Ivan Example", "EU sanctions", "RU", "1961-02-03"])
    data.append(["Ana Sample", "PEP", "ES", ""])
    result = modelresource_factory(WatchlistEntry)().import_data(data, dry_run=False)
    assert not result.has_errors()
    assert WatchlistEntry.objects.count() == 2
