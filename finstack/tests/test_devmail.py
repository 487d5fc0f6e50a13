"""The development mailbox: a sign-up code readable in the browser, never in production."""

import pytest
from django.core import mail
from django.test import override_settings

from finstack.devmail import BACKEND


def test_the_mailbox_shows_the_latest_mails_newest_first(client, tmp_path, capsys):
    with override_settings(DEBUG=True, EMAIL_BACKEND=BACKEND, EMAIL_FILE_PATH=str(tmp_path)):
        mail.send_mail("Your code", "Your sign-up code is 482913.", None, ["ann@example.com"])
        mail.send_mail("Welcome", "Welcome to Finstack.", None, ["ann@example.com"])
        page = client.get("/dev/mail/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "482913" in text
    assert text.index("Welcome to Finstack.") < text.index("482913")
    assert "482913" in capsys.readouterr().out  # still printed on the console too


@pytest.mark.parametrize(
    "overrides",
    [{"DEBUG": False, "EMAIL_BACKEND": BACKEND}, {"DEBUG": True}],
    ids=["without-debug", "another-backend"],
)
def test_the_mailbox_is_not_there_outside_development(client, tmp_path, overrides):
    with override_settings(EMAIL_FILE_PATH=str(tmp_path), **overrides):
        mail.send_mail("Your code", "Your sign-up code is 482913.", None, ["ann@example.com"])
        page = client.get("/dev/mail/")

    assert page.status_code == 404
    assert b"482913" not in page.content
