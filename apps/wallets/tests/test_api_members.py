import pytest
from django.db import connection

from apps.core.models import OutboxEvent
from apps.kyc.tests.factories import verified_phone
from apps.wallets.models import WalletInvitation, WalletMember, WalletMemberChange
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db


def inbox(user) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, title FROM notifications_notification WHERE user_id = %s"
            " ORDER BY created_at",
            [user.pk],
        )
        return cursor.fetchall()


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Runs a request with its after-commit work (event handlers, notifications)."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call


def invite(client, wallet, contact, **fields):
    return client.post(
        f"/api/v1/wallets/{wallet.pk}/members", {"contact": contact, **fields}, format="json"
    )


def send(client, wallet, target, amount, key):
    return client.post(
        "/api/v1/transfers",
        {
            "source_wallet": str(wallet.pk),
            "destination": str(target.pk),
            "amount": amount,
            "currency": "EUR",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def shared_wallet(funded: int = 0):
    owner = make_user(first_name="Olga")
    return owner, make_wallet(owner, shared=True, name="Flat", funded=funded)


@pytest.mark.parametrize(
    ("contact", "message"),
    [("+12", "A phone number in +E.164 form."), ("bob@", "Enter a valid email address.")],
)
def test_a_malformed_contact_is_refused_and_nothing_is_written(auth_client, contact, message):
    owner, wallet = shared_wallet()
    response = invite(auth_client(owner), wallet, contact)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"] == {"contact": [message]}
    assert not WalletInvitation.objects.exists()
    assert not OutboxEvent.objects.filter(type="wallets.member_invited").exists()


def test_invite_by_email_accept_and_both_are_told(auth_client, run):
    owner, wallet = shared_wallet(funded=1000)
    bob = make_user("bob@example.com", first_name="Bob")
    response = run(invite, auth_client(owner), wallet, "Bob@Example.com", daily_limit=300)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("wallet", "contact", "role", "daily_limit", "state")} == {
        "wallet": str(wallet.pk),
        "contact": "bob@example.com",
        "role": "spender",
        "daily_limit": 300,
        "state": "pending",
    }
    assert inbox(bob) == [("wallet_invitation", "Olga invited you to a shared wallet")]
    listed = auth_client(bob).get("/api/v1/wallet-invitations").json()["results"]
    assert [(i["id"], i["wallet_name"], i["invited_by"]) for i in listed] == [
        (body["id"], "Flat", "Olga")
    ]

    accepted = run(auth_client(bob).post, f"/api/v1/wallet-invitations/{body['id']}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "accepted"
    assert inbox(owner) == [("wallet_invitation_answered", "Bob joined your shared wallet")]
    assert auth_client(bob).get("/api/v1/wallet-invitations").json()["results"] == []
    again = auth_client(bob).post(f"/api/v1/wallet-invitations/{body['id']}/accept")
    assert again.status_code == 200
    assert WalletMember.objects.filter(wallet=wallet).count() == 1
    declined = auth_client(bob).post(f"/api/v1/wallet-invitations/{body['id']}/decline")
    assert declined.status_code == 409
    assert declined.json()["error"]["code"] == "invitation_not_pending"

    for viewer in (owner, bob):
        members = auth_client(viewer).get(f"/api/v1/wallets/{wallet.pk}/members")
        assert members.status_code == 200
        assert [(m["name"], m["role"], m["daily_limit"]) for m in members.json()["results"]] == [
            ("Olga", "owner", None),
            ("Bob", "spender", 300),
        ]
    # Bob now pays from the wallet, within the limit the owner gave him.
    target = make_wallet()
    assert send(auth_client(bob), wallet, target, 200, "m-1").status_code == 201
    over = send(auth_client(bob), wallet, target, 200, "m-2")
    assert over.status_code == 422
    assert over.json()["error"]["details"]["limit"] == "member_daily"
    assert (balance_of(wallet), balance_of(target)) == (800, 200)
    trail = WalletMemberChange.objects.get(wallet=wallet)
    assert (trail.user_id, trail.action, trail.changed_by_id) == (bob.pk, "joined", bob.pk)


def test_an_unknown_contact_gets_the_same_answer_as_a_customer(auth_client, run):
    owner, wallet = shared_wallet()
    make_user("known@example.com")
    unverified = make_user()
    type(unverified).objects.filter(pk=unverified.pk).update(phone="+4915100000001")
    verified = make_user()
    verified_phone(verified.pk, "+4915100000002")
    client = auth_client(owner)
    answers = {
        contact: run(invite, client, wallet, contact)
        for contact in (
            "known@example.com",
            "nobody@example.com",
            "+4915100000001",
            "+4915100000002",
            "+4915100000003",
        )
    }
    shapes = {
        (r.status_code, tuple(sorted(set(r.json()) - {"id", "created_at", "contact"})))
        for r in answers.values()
    }
    assert len(shapes) == 1
    assert {(r.json()["state"], r.json()["invited_by"]) for r in answers.values()} == {
        ("pending", "Olga")
    }
    invited = OutboxEvent.objects.filter(type="wallets.member_invited")
    assert sorted(e.payload["invitee_id"] for e in invited) == sorted(
        [type(owner).objects.get(email="known@example.com").pk, verified.pk]
    )
    assert inbox(unverified) == []
    assert [k for k, _ in inbox(verified)] == ["wallet_invitation"]
    # Asking again answers the pending invitation, still the same way for both.
    for contact in ("known@example.com", "nobody@example.com"):
        again = invite(client, wallet, contact)
        assert (again.status_code, again.json()["id"]) == (201, answers[contact].json()["id"])
    assert WalletInvitation.objects.count() == 5


def test_invitee_declines_and_the_owner_is_told(auth_client, run):
    owner, wallet = shared_wallet()
    ann = make_user("ann@example.com", first_name="Ann")
    invitation = invite(auth_client(owner), wallet, "ann@example.com").json()
    response = run(auth_client(ann).post, f"/api/v1/wallet-invitations/{invitation['id']}/decline")
    assert response.status_code == 200
    assert response.json()["state"] == "declined"
    assert inbox(owner) == [("wallet_invitation_answered", "Ann declined your invitation")]
    assert not WalletMember.objects.exists()
    accept = auth_client(ann).post(f"/api/v1/wallet-invitations/{invitation['id']}/accept")
    assert accept.status_code == 409
    assert not WalletMember.objects.exists()


def test_only_the_invitee_answers_an_invitation(auth_client):
    owner, wallet = shared_wallet()
    make_user("ann@example.com")
    invitation = invite(auth_client(owner), wallet, "ann@example.com").json()
    for someone in (owner, make_user()):
        response = auth_client(someone).post(
            f"/api/v1/wallet-invitations/{invitation['id']}/accept"
        )
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "code": "invitation_not_found",
                "message": "No such invitation.",
                "details": {},
            }
        }
    assert WalletInvitation.objects.get().state == "pending"
    assert not WalletMember.objects.exists()


def joined(auth_client, owner, wallet, user, **fields):
    invitation = invite(auth_client(owner), wallet, user.email, **fields).json()
    auth_client(user).post(f"/api/v1/wallet-invitations/{invitation['id']}/accept")
    return WalletMember.objects.get(wallet=wallet, user=user)


def test_owner_changes_role_and_limit_and_the_member_is_told(auth_client, run):
    owner, wallet = shared_wallet(funded=1000)
    bob = make_user(first_name="Bob")
    member = joined(auth_client, owner, wallet, bob, daily_limit=500)
    url = f"/api/v1/wallets/{wallet.pk}/members/{member.public_id}"

    refused = auth_client(bob).patch(url, {"daily_limit": 10_000}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_wallet_owner"
    assert WalletMember.objects.get(pk=member.pk).daily_limit == 500

    response = run(auth_client(owner).patch, url, {"role": "viewer"}, format="json")
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["daily_limit"]) == ("viewer", 500)
    assert inbox(bob)[-1] == ("wallet_member_changed", "Your access to a shared wallet changed")
    target = make_wallet()
    blocked = send(auth_client(bob), wallet, target, 100, "v-1")
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "not_allowed_to_send"
    assert balance_of(wallet) == 1000

    cleared = auth_client(owner).patch(url, {"role": "spender", "daily_limit": None}, format="json")
    assert (cleared.status_code, cleared.json()["daily_limit"]) == (200, None)
    bad = auth_client(owner).patch(url, {"daily_limit": -1}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["details"]) == ["daily_limit"]
    changes = WalletMemberChange.objects.filter(action="changed").order_by("pk")
    assert [(c.role, c.daily_limit, c.changed_by_id) for c in changes] == [
        ("viewer", 500, owner.pk),
        ("spender", None, owner.pk),
    ]


def test_limits_of_other_members_stay_hidden(auth_client):
    owner, wallet = shared_wallet()
    bob, cat = make_user(first_name="Bob"), make_user(first_name="Cat")
    joined(auth_client, owner, wallet, bob, daily_limit=500)
    joined(auth_client, owner, wallet, cat, daily_limit=700)
    seen = auth_client(bob).get(f"/api/v1/wallets/{wallet.pk}/members").json()["results"]
    assert [(m["name"], m["daily_limit"], m["is_you"]) for m in seen] == [
        ("Olga", None, False),
        ("Bob", 500, True),
        ("Cat", None, False),
    ]


def test_owner_removes_a_member_and_a_member_leaves(auth_client, run):
    owner, wallet = shared_wallet()
    bob, cat = make_user(first_name="Bob"), make_user(first_name="Cat")
    bob_member = joined(auth_client, owner, wallet, bob)
    cat_member = joined(auth_client, owner, wallet, cat)
    members_url = f"/api/v1/wallets/{wallet.pk}/members"

    not_his = auth_client(bob).delete(f"{members_url}/{cat_member.public_id}")
    assert not_his.status_code == 403
    assert not_his.json()["error"]["code"] == "not_wallet_owner"

    removed = run(auth_client(owner).delete, f"{members_url}/{bob_member.public_id}")
    assert removed.status_code == 204
    assert inbox(bob)[-1] == ("wallet_member_removed", "You are no longer on a shared wallet")
    gone = auth_client(bob).get(members_url)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "wallet_not_found"

    left = run(auth_client(cat).delete, f"{members_url}/{cat_member.public_id}")
    assert left.status_code == 204
    assert inbox(owner)[-1] == ("wallet_member_removed", "Cat left your shared wallet")
    assert not WalletMember.objects.exists()
    trail = WalletMemberChange.objects.filter(action__in=["removed", "left"]).order_by("pk")
    assert [(c.user_id, c.action, c.changed_by_id) for c in trail] == [
        (bob.pk, "removed", owner.pk),
        (cat.pk, "left", cat.pk),
    ]
    missing = auth_client(owner).delete(f"{members_url}/{cat_member.public_id}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "member_not_found"


def test_invitation_refusals(auth_client):
    owner = make_user()
    personal = make_wallet(owner)
    client = auth_client(owner)
    not_shared = invite(client, personal, "ann@example.com")
    assert not_shared.status_code == 409
    assert not_shared.json()["error"]["code"] == "wallet_not_shared"
    _, wallet = shared_wallet()
    bad = invite(auth_client(wallet.owner), wallet, "not-an-address")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["details"]) == ["contact"]
    bob = make_user()
    joined(auth_client, wallet.owner, wallet, bob)
    twice = invite(auth_client(wallet.owner), wallet, bob.email)
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "already_member"
    by_member = invite(auth_client(bob), wallet, "ann@example.com")
    assert by_member.status_code == 403
    assert by_member.json()["error"]["code"] == "not_wallet_owner"
    assert WalletInvitation.objects.count() == 1  # bob's own
