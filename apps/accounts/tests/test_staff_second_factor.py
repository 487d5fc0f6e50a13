"""Staff power needs a second factor on every login path: the app login (allauth headless) as
well as the admin. The staff API refuses a token whose login did not pass TOTP, and a write
whose TOTP step is older than STAFF_TOTP_MAX_AGE; staff cannot enrol a TOTP of their own in
the app (a password would then be enough to add the "second" factor). Customers are not
affected."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.api.permissions import has_role
from apps.accounts.roles import COMPLIANCE, ROLES
from apps.accounts.tests.mobile import (
    PASSWORD,
    MobileClient,
    age_login,
    log_in_with_emailed_code,
    staff_log_in,
    staff_totp_code,
    with_two_factor,
)
from apps.core.models import OutboxEvent

pytestmark = pytest.mark.django_db
STAFF_EMAIL = "cora@finstack.test"


class StaffCustomerRenameProbe(APIView):
    """A staff write, as staff API writes are guarded (the permission under test)."""

    permission_classes = (has_role(*ROLES),)

    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=150)

    def patch(self, request, user_id):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_update_profile(user_id=user_id, **serializer.validated_data)
        return Response(selectors.profile_get(user_id=user_id))


urlpatterns = [
    path("api/probe/customers/<int:user_id>", StaffCustomerRenameProbe.as_view()),
    path("api/v1/", include("apps.accounts.api.urls")),
    path("_allauth/", include("allauth.headless.urls")),
]


@pytest.fixture
def customer():
    return get_user_model().objects.create_user("pia@example.com", "pw", first_name="Pia")


def staff_without_totp(role: str = COMPLIANCE):
    """A staff account as it stood before its TOTP enrolment (or enrolled for the admin only)."""
    user_id = services.staff_user_create(email=STAFF_EMAIL, role=role, password=PASSWORD)
    return get_user_model().objects.get(pk=user_id)


def enrolled_staff(role: str = COMPLIANCE):
    user = staff_without_totp(role)
    services.staff_otp_enrol(user_id=user.pk)
    return user


# --- the finding ------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_staff_login_with_password_and_emailed_code_but_no_totp_cannot_read_the_staff_api(
    customer,
):
    staff = staff_without_totp()  # given
    app = MobileClient()
    logged_in = log_in_with_emailed_code(app, staff.email)
    assert logged_in.status_code == 200, logged_in.body  # a valid login, for a customer's use

    response = app.call("get", f"/api/v1/staff/customers/{customer.pk}")  # when

    assert response.status_code == 403  # then
    assert response.body == {
        "error": {
            "code": "mfa_required",
            "message": "Staff work needs a sign-in with your authenticator app: log in again "
            "and complete the two-factor step.",
            "details": {},
        }
    }


@pytest.mark.urls(__name__)
def test_staff_without_totp_cannot_enrol_one_in_the_app(customer):
    staff = staff_without_totp()  # given: password and mailbox, nothing else
    app = MobileClient()
    assert log_in_with_emailed_code(app, staff.email).status_code == 200
    assert app.call("post", "/auth/reauthenticate", {"password": PASSWORD}).status_code == 200

    offered = app.call("get", "/account/authenticators/totp")  # when
    activated = app.call("post", "/account/authenticators/totp", {"code": "123456"})

    assert offered.status_code == 409  # then
    assert offered.body["errors"][0]["code"] == "staff_totp_managed"
    assert activated.status_code == 400
    assert activated.body["errors"][0]["code"] == "staff_totp_managed"
    assert not Authenticator.objects.filter(user=staff).exists()
    assert not OutboxEvent.objects.filter(type="accounts.mfa_changed").exists()
    assert app.call("get", f"/api/v1/staff/customers/{customer.pk}").status_code == 403


@pytest.mark.urls(__name__)
def test_staff_login_with_totp_reads_the_staff_api(customer):
    staff = enrolled_staff()  # given: one TOTP secret for the admin and the app
    app = staff_log_in(staff)

    response = app.call("get", f"/api/v1/staff/customers/{customer.pk}")  # when

    assert response.status_code == 200, response.body  # then
    assert response.body["email"] == "pia@example.com"


@pytest.mark.urls(__name__)
def test_staff_write_with_an_old_totp_step_is_refused_and_changes_nothing(customer, settings):
    settings.STAFF_TOTP_MAX_AGE = 15 * 60
    staff = enrolled_staff()  # given: a TOTP login 16 minutes ago
    app = staff_log_in(staff)
    age_login(app, 16 * 60)
    events_before = OutboxEvent.objects.count()

    response = app.call(  # when
        "patch", f"/api/probe/customers/{customer.pk}", {"first_name": "Mallory"}
    )

    assert response.status_code == 403  # then
    assert response.body == {
        "error": {
            "code": "reauthentication_required",
            "message": "Confirm it is you with your authenticator app "
            "(POST /_allauth/app/v1/auth/2fa/reauthenticate), then retry.",
            "details": {},
        }
    }
    customer.refresh_from_db()
    assert customer.first_name == "Pia"
    assert OutboxEvent.objects.count() == events_before
    # Reading stays allowed for the login's lifetime; a fresh TOTP step allows the write.
    assert app.call("get", f"/api/v1/staff/customers/{customer.pk}").status_code == 200
    code = staff_totp_code(staff, at=time.time() + 30)  # the login's code is spent
    again = app.call("post", "/auth/2fa/reauthenticate", {"code": code})
    assert again.status_code == 200, again.body
    renamed = app.call("patch", f"/api/probe/customers/{customer.pk}", {"first_name": "Cass"})
    assert renamed.status_code == 200, renamed.body
    customer.refresh_from_db()
    assert customer.first_name == "Cass"


@pytest.mark.urls(__name__)
def test_a_password_reauthentication_does_not_refresh_the_staff_totp_step(customer):
    staff = enrolled_staff()  # given
    app = staff_log_in(staff)
    age_login(app, 16 * 60)

    again = app.call("post", "/auth/reauthenticate", {"password": PASSWORD})  # when
    response = app.call("patch", f"/api/probe/customers/{customer.pk}", {"first_name": "M"})

    assert again.status_code == 200  # then
    assert response.status_code == 403
    assert response.body["error"]["code"] == "reauthentication_required"
    customer.refresh_from_db()
    assert customer.first_name == "Pia"


@pytest.mark.urls(__name__)
def test_customers_are_unaffected(customer):
    app = MobileClient()  # given: a customer signed in by password and e-mailed code
    assert app.sign_up("noa@example.com").status_code == 200

    me = app.call("get", "/api/v1/me")  # when
    staff_api = app.call("get", f"/api/v1/staff/customers/{customer.pk}")

    assert me.status_code == 200  # then: no second factor needed for their own data
    assert staff_api.status_code == 403
    assert staff_api.body == {
        "error": {
            "code": "permission_denied",
            "message": "Your role does not allow this.",
            "details": {},
        }
    }
    with_two_factor(app)  # and they still set TOTP up themselves
    assert Authenticator.objects.filter(user__email="noa@example.com").exists()


def test_the_staff_api_documents_its_second_factor_refusals():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    operation = schema["paths"]["/api/v1/staff/customers/{user_id}"]["get"]
    codes = operation["responses"]["403"]["content"]["application/json"]["schema"]
    assert set(codes["properties"]["error"]["properties"]["code"]["enum"]) == {
        "permission_denied",
        "mfa_required",
        "reauthentication_required",
    }


@pytest.mark.urls(__name__)
def test_staff_enrolled_for_the_admin_only_keep_their_authenticator_after_the_migration(customer):
    import importlib

    from django.apps import apps as registry

    staff = enrolled_staff()  # given: enrolled when only the admin asked for TOTP
    Authenticator.objects.filter(user=staff).delete()
    migration = importlib.import_module("apps.accounts.migrations.0004_staff_app_totp")

    migration.copy_admin_totp_to_app(registry, None)  # when
    migration.copy_admin_totp_to_app(registry, None)  # and again: nothing doubles

    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).count() == 1
    app = staff_log_in(staff)  # then: the code from the same authenticator app entry
    assert app.call("get", f"/api/v1/staff/customers/{customer.pk}").status_code == 200
