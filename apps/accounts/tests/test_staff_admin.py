"""The back office: password + TOTP for every staff login, brute force locked out, roles,
the staff action log and create_staff_user."""

import base64
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services
from apps.accounts.tests.mobile import staff_log_in, totp

pytestmark = pytest.mark.django_db
PASSWORD = "staff passphrase 42"  # noqa: S105


def staff(email: str, role: str) -> object:
    user_id = services.staff_user_create(email=email, role=role, password=PASSWORD)
    services.staff_otp_enrol(user_id=user_id)
    return get_user_model().objects.get(pk=user_id)


def current_code(user: object) -> str:
    device = TOTPDevice.objects.get(user=user)
    return totp(base64.b32encode(device.bin_key).decode())


def admin_login(client, email: str, password: str, token: str = "", device: str = "") -> object:
    """The admin's login form: the staff member picks their authenticator (or backup tokens)."""
    if not device:
        totp_device = TOTPDevice.objects.filter(user__email=email).first()
        device = totp_device.persistent_id if totp_device else ""
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "otp_device": device, "otp_token": token},
    )


def test_a_password_alone_does_not_open_the_admin(client):
    staff("ops@finstack.test", "operations")
    page = admin_login(client, "ops@finstack.test", PASSWORD)
    assert page.status_code == 200  # the form again, with an error
    assert b"errornote" in page.content
    assert client.get("/admin/").status_code == 302


def test_password_and_totp_open_the_admin(client):
    user = staff("ops@finstack.test", "operations")
    response = admin_login(client, "ops@finstack.test", PASSWORD, current_code(user))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_wrong_totp_is_refused(client):
    user = staff("ops@finstack.test", "operations")
    wrong = f"{(int(current_code(user)) + 1) % 1_000_000:06d}"
    assert admin_login(client, "ops@finstack.test", PASSWORD, wrong).status_code == 200
    assert client.get("/admin/").status_code == 302


def test_admin_password_guessing_is_locked_out(client):
    user = staff("ops@finstack.test", "operations")
    for _ in range(4):
        assert admin_login(client, "ops@finstack.test", "guess").status_code == 200
    assert admin_login(client, "ops@finstack.test", "guess").status_code == 429  # the 5th
    locked = admin_login(client, "ops@finstack.test", PASSWORD, current_code(user))
    assert locked.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_create_staff_user_prints_the_enrolment_and_backup_tokens_work(client, capsys, tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text(PASSWORD)
    call_command(
        "create_staff_user",
        "--email",
        "ana@finstack.test",
        "--role",
        "compliance",
        "--password-file",
        str(secret_file),
    )
    out = capsys.readouterr().out
    assert re.search(r"otpauth://totp/.+secret=[A-Z2-7]+", out)
    tokens = re.findall(r"^\s+([a-z0-9]{8})$", out, re.MULTILINE)
    assert len(tokens) == 10
    user = get_user_model().objects.get(email="ana@finstack.test")
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["compliance"]
    backup = StaticDevice.objects.get(user=user).persistent_id
    assert admin_login(client, "ana@finstack.test", PASSWORD, tokens[0], backup).status_code == 302
    client.logout()  # each backup token works once
    assert admin_login(client, "ana@finstack.test", PASSWORD, tokens[0], backup).status_code == 200


# Each role's reach in the admin: (path, status) per role.
PAGES = {
    "/admin/kyc/customertier/": {"compliance": 200, "operations": 200, "support": 200},
    "/admin/kyc/tier/": {"compliance": 200, "operations": 403, "support": 403},
    "/admin/wallets/wallet/": {"compliance": 200, "operations": 200, "support": 200},
    "/admin/ledger/adjustment/add/": {"compliance": 403, "operations": 200, "support": 403},
    "/admin/core/idempotencyrecord/": {"compliance": 403, "operations": 200, "support": 403},
    "/admin/auditlog/logentry/": {"compliance": 403, "operations": 403, "support": 403},
    "/admin/accounts/user/": {"compliance": 200, "operations": 200, "support": 200},
    "/admin/accounts/apikey/add/": {"compliance": 403, "operations": 200, "support": 403},
}


@pytest.mark.parametrize("role", ["compliance", "operations", "support"])
def test_each_role_sees_what_its_job_needs(client, otp_login, role):
    otp_login(client, staff(f"{role}@finstack.test", role))
    seen = {path: client.get(path).status_code for path in PAGES}
    assert seen == {path: statuses[role] for path, statuses in PAGES.items()}


def test_support_cannot_freeze_a_wallet(client, otp_login):
    otp_login(client, staff("sue@finstack.test", "support"))
    page = client.get("/admin/wallets/wallet/")
    assert b"freeze" not in page.content.lower()


def test_the_staff_log_records_admin_changes_and_only_superusers_read_it(client, otp_login):
    from auditlog.models import LogEntry

    root = staff("root@finstack.test", "superuser")
    otp_login(client, root)
    compliance = Group.objects.get(name="compliance")
    customer = get_user_model().objects.create_user("cx@example.com", "pw")
    page = client.get(f"/admin/accounts/user/{customer.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "groups"}
    data.update(
        first_name="Cass",
        groups=[compliance.pk],
        date_joined_0="2026-01-01",
        date_joined_1="00:00:00",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("closed_at", None)
    saved = client.post(f"/admin/accounts/user/{customer.pk}/change/", data)
    assert saved.status_code == 302, page.context
    entry = LogEntry.objects.get_for_object(customer).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == root
    assert entry.changes_dict["first_name"] == ["", "Cass"]
    assert client.get("/admin/auditlog/logentry/").status_code == 200

    # Append-only, even for the database owner.
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes_text="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.parametrize(
    ("who", "status"), [("support", 200), ("compliance", 200), ("customer", 403), (None, 401)]
)
def test_staff_api_by_role(api_client, auth_client, who, status):
    customer = get_user_model().objects.create_user("cx@example.com", "pw")
    url = f"/api/v1/staff/customers/{customer.pk}"
    if who == "customer":
        response = auth_client(customer).get(url)
    elif who:  # the app login, with the TOTP step staff must pass
        response = staff_log_in(staff(f"{who}@finstack.test", who), PASSWORD).call("get", url)
    else:
        response = api_client.get(url)
    assert response.status_code == status
    if status == 200:
        assert response.json()["email"] == "cx@example.com"
