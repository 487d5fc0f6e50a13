"""Inbox, preferences and push devices through the mobile API."""

import pytest
from django.contrib.auth import get_user_model

from apps.notifications import services
from apps.notifications.models import Notification, Preference, PushDevice

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann():
    return get_user_model().objects.create_user("ann@example.com", "pw")


@pytest.fixture
def app(auth_client, ann):
    return auth_client(ann)


def message(user, n):
    return Notification.objects.create(
        user=user, kind="welcome", category="account", title=f"m{n}", body="b"
    )


def test_inbox_newest_first_with_cursor_pages_and_unread_filter(app, ann):
    for n in range(5):
        message(ann, n)
    other = get_user_model().objects.create_user("bob@example.com", "pw")
    message(other, 99)  # never shown to ann
    first = app.get("/api/v1/notifications?page_size=3").json()
    assert [m["title"] for m in first["results"]] == ["m4", "m3", "m2"]
    second = app.get(first["next"]).json()
    assert [m["title"] for m in second["results"]] == ["m1", "m0"]
    assert app.get("/api/v1/notifications/unread-count").json() == {"unread": 5}

    newest = first["results"][0]["id"]
    assert app.post(f"/api/v1/notifications/{newest}/read").status_code == 204
    assert app.post(f"/api/v1/notifications/{newest}/read").status_code == 204  # idempotent
    unread = app.get("/api/v1/notifications?unread=true").json()["results"]
    assert [m["title"] for m in unread] == ["m3", "m2", "m1", "m0"]
    assert app.post("/api/v1/notifications/read-all").json() == {"marked": 4}
    assert app.get("/api/v1/notifications/unread-count").json() == {"unread": 0}


def test_someone_elses_notification_is_not_found(app):
    other = get_user_model().objects.create_user("bob@example.com", "pw")
    theirs = message(other, 1)
    response = app.post(f"/api/v1/notifications/{theirs.pk}/read")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "notification_not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_preferences_list_and_change_with_security_locked(app, ann):
    listed = app.get("/api/v1/notifications/preferences").json()["preferences"]
    assert {"category": "kyc", "channel": "email", "enabled": True, "locked": False} in listed
    assert {"category": "security", "channel": "email", "enabled": True, "locked": True} in listed

    changed = app.put(
        "/api/v1/notifications/preferences",
        {"preferences": [{"category": "kyc", "channel": "email", "enabled": False}]},
        format="json",
    )
    assert changed.status_code == 200
    assert {"category": "kyc", "channel": "email", "enabled": False, "locked": False} in (
        changed.json()["preferences"]
    )

    refused = app.put(
        "/api/v1/notifications/preferences",
        {
            "preferences": [
                {"category": "account", "channel": "email", "enabled": False},
                {"category": "security", "channel": "email", "enabled": False},
            ]
        },
        format="json",
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "preference_locked"
    # Nothing half-written: the account choice in the same request was not kept either.
    assert not Preference.objects.filter(user=ann, category="account").exists()


def test_device_registration_is_deduplicated_and_removable(app, ann, auth_client):
    body = {"platform": "ios", "token": "apns-token-1"}
    first = app.post("/api/v1/devices", body, format="json")
    again = app.post("/api/v1/devices", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert PushDevice.objects.count() == 1

    # The same phone signs in to another account: the token follows the new login.
    bob = get_user_model().objects.create_user("bob@example.com", "pw")
    assert auth_client(bob).post("/api/v1/devices", body, format="json").status_code == 200
    assert app.get("/api/v1/devices").json() == {"results": []}
    device = PushDevice.objects.get()
    assert device.user_id == bob.pk

    mine = app.post("/api/v1/devices", {"platform": "android", "token": "fcm-2"}, format="json")
    device_id = mine.json()["id"]
    assert app.delete(f"/api/v1/devices/{device_id}").status_code == 204
    gone = app.delete(f"/api/v1/devices/{device_id}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "device_not_found"


def test_bad_device_input_is_refused(app):
    response = app.post("/api/v1/devices", {"platform": "blackberry", "token": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"platform", "token"}
    assert not PushDevice.objects.exists()


def test_admin_shows_deliveries_and_the_templates(client, otp_login):
    root = get_user_model().objects.create_superuser("root@finstack.test", "pw")
    services.notify(user_id=root.pk, kind="welcome")
    otp_login(client, root)
    assert client.get("/admin/notifications/delivery/?status__exact=queued").status_code == 200
    page = client.get("/admin/notifications/delivery/templates/")
    assert page.status_code == 200
    assert b"Willkommen bei Finstack, Ada Lovelace" in page.content
    assert b"You received 1,250.00 EUR" in page.content
