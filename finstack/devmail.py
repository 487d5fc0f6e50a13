"""Development only: e-mails are printed on the console and kept in .data/mail, and
/dev/mail/ shows the latest, so a sign-up code can be read in the browser without a terminal.
The page answers 404 unless DEBUG is on and this backend sends the mail."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

BACKEND = "finstack.devmail.ConsoleAndFileBackend"
SEPARATOR = "-" * 79  # what Django's console and file backends write after each message
SHOWN = 20


class ConsoleAndFileBackend(FileBackend):
    """Each message on the console, as before, and in a file of EMAIL_FILE_PATH."""

    def send_messages(self, email_messages: Any) -> int:
        ConsoleBackend(fail_silently=self.fail_silently).send_messages(email_messages)
        return int(super().send_messages(email_messages) or 0)


def _messages(folder: Path) -> list[dict[str, str]]:
    found = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        for raw in reversed(path.read_text(errors="replace").split(SEPARATOR)):
            if not raw.strip():
                continue
            message = email.message_from_string(raw.strip(), policy=email.policy.default)
            part = message.get_body(preferencelist=("plain", "html"))
            found.append(
                {
                    "subject": str(message["Subject"] or ""),
                    "to": str(message["To"] or ""),
                    "date": str(message["Date"] or ""),
                    "body": part.get_content() if part is not None else "",
                }
            )
            if len(found) == SHOWN:
                return found
    return found


def mailbox(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG or settings.EMAIL_BACKEND != BACKEND:
        raise Http404
    folder = Path(getattr(settings, "EMAIL_FILE_PATH", ""))
    messages = _messages(folder) if folder.is_dir() else []
    return TemplateResponse(request, "devmail/mailbox.html", {"messages": messages})
