"""Message texts from templates/notifications/<kind>[.<language>].txt.

A template has sections: `### title` (e-mail subject, push and in-app title), `### body`
(e-mail text, push and in-app body) and optionally `### sms`. Rendered without HTML escaping
(these are plain texts); the HTML e-mail wraps them in notifications/email.html, escaped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.utils import translation

SECTION = re.compile(r"^### (\w+)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    sms: str
    html: str


def _engine() -> Engine:
    return Engine(dirs=settings.TEMPLATES[0]["DIRS"], app_dirs=True, autoescape=False)


def template_names(kind: str, language: str) -> list[str]:
    return [f"notifications/{kind}.{language}.txt", f"notifications/{kind}.txt"]


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    with translation.override(language):
        template = _engine().select_template(template_names(kind, language))
        text = template.render(Context(context, autoescape=False))
        sections = dict(_sections(text))
        title, body = sections.get("title", "Finstack"), sections.get("body", "")
        html = render_to_string("notifications/email.html", {"title": title, "body": body})
    return Rendered(title=title, body=body, sms=sections.get("sms", body), html=html)


def _sections(text: str) -> list[tuple[str, str]]:
    parts = SECTION.split(text)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
