"""The console SMS/push backend: codes and phone numbers reach the log only in development."""

import logging

from apps.notifications.channels import Message
from apps.notifications.channels.basic import Console

TEXT = Message(to=("+491701234567",), subject="", body="Your Finstack code is 493817")


def test_outside_debug_the_text_and_the_number_stay_out_of_the_log(settings, caplog):
    settings.DEBUG = False
    with caplog.at_level(logging.INFO, logger="apps.notifications.channels.basic"):
        Console().send(TEXT)
    assert "493817" not in caplog.text
    assert "+491701234567" not in caplog.text
    assert "not sent (console backend; 28 characters withheld)" in caplog.text


def test_in_development_the_text_is_logged(settings, caplog):
    settings.DEBUG = True
    with caplog.at_level(logging.INFO, logger="apps.notifications.channels.basic"):
        Console().send(TEXT)
    assert "+491701234567: " in caplog.text
    assert "493817" in caplog.text
