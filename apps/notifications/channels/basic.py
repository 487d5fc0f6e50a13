"""E-mail through Django's mail backends; console and in-memory backends for SMS and push."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from apps.notifications.channels import Message, Sent, TemporaryFailure

logger = logging.getLogger(__name__)


class DjangoEmail:
    """Whatever EMAIL_URL configures (SMTP in production, the console in development)."""

    def send(self, message: Message) -> Sent:
        message_id = f"<{message.key or uuid.uuid4()}@finstack>"
        mail = EmailMultiAlternatives(
            message.subject,
            message.body,
            settings.DEFAULT_FROM_EMAIL,
            list(message.to),
            headers={"Message-ID": message_id},
        )
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        try:
            mail.send()
        except OSError as exc:  # SMTP down, refused connection, timeout
            raise TemporaryFailure(str(exc)) from exc
        return Sent(provider_message_id=message_id)


class Console:
    """Development: the message goes to the log. Outside DEBUG (a deployment that forgot to
    configure its SMS or push provider) texts carry codes and phone numbers: only their
    length is logged."""

    def send(self, message: Message) -> Sent:
        if settings.DEBUG:
            logger.info(
                "notification to %s: %s | %s", ", ".join(message.to), message.subject, message.body
            )
        else:
            logger.warning(
                "notification to %d recipient(s) not sent (console backend; %d characters"
                " withheld): configure an SMS/push provider",
                len(message.to),
                len(message.body),
            )
        return Sent(provider_message_id=f"console-{uuid.uuid4()}")


class Memory:
    """Tests: messages land in `Memory.outbox`, like Django's locmem e-mail backend."""

    outbox: list[Message] = []  # noqa: RUF012 - shared on purpose, tests clear it

    def send(self, message: Message) -> Sent:
        Memory.outbox.append(message)
        return Sent(provider_message_id=f"memory-{len(Memory.outbox)}")
