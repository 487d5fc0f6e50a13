"""Verification vendors: we submit an applicant, the vendor answers later by a signed webhook
with GREEN or RED and labels. Its answer only proposes; staff (or the auto-approve rule of the
lowest tier) decide.

The simulated vendor answers RED ("document_forgery_suspected") when the legal last name
contains "Red" (test data), GREEN otherwise."""

from __future__ import annotations

import json
import uuid
from functools import cache

from celery import current_app
from django.conf import settings
from django.utils.module_loading import import_string

from apps.core import signing


class SimulatedVendor:
    name = "simulated"

    def submit(self, *, case_id: str, applicant: dict) -> str:
        if settings.KYC_SIMULATED_AUTO_CALLBACK:
            current_app.tasks["kyc.simulated_result"].apply_async(
                (case_id, applicant["last_name"]), countdown=settings.KYC_SIMULATED_DELAY
            )
        return f"sim_applicant_{case_id}"

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> dict:
        signing.verify(body, headers.get("Finstack-Signature", ""), verifying_secrets("simulated"))
        data = json.loads(body)
        if data.get("result") not in ("GREEN", "RED"):
            raise ValueError("unknown result")
        return data


def secret(name: str) -> str:
    return settings.KYC_WEBHOOK_SECRETS[name]


def verifying_secrets(name: str) -> list[str]:
    """The secret in use, then the one being rotated out (both verify during the overlap)."""
    return [secret(name), *settings.KYC_WEBHOOK_PREVIOUS_SECRETS.get(name, [])]


def simulated_result(case_id: str, last_name: str) -> tuple[bytes, dict[str, str]]:
    """The signed webhook the simulated vendor sends for a case."""
    red = "red" in last_name.lower()
    body = json.dumps(
        {
            "id": f"kyc_evt_{uuid.uuid4().hex}",
            "case_id": case_id,
            "result": "RED" if red else "GREEN",
            "labels": ["document_forgery_suspected"] if red else [],
        }
    ).encode()
    return body, {"Finstack-Signature": signing.sign(body, secret("simulated"))}


@cache
def get(name: str) -> SimulatedVendor:
    return import_string(settings.KYC_PROVIDERS[name])()
