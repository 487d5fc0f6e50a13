"""Real providers: an HTTP SMS API and Firebase Cloud Messaging (HTTP v1)."""

from __future__ import annotations

import json

import requests
from django.conf import settings

from apps.notifications.channels import Message, PermanentFailure, Sent, TemporaryFailure

TIMEOUT = (3.05, 10)  # connect, read: a slow provider must not hold a worker for long


def _post(url: str, payload: dict, headers: dict[str, str]) -> requests.Response:
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TemporaryFailure(f"HTTP {response.status_code}: {response.text[:200]}")
    return response


class HttpSms:
    """A JSON SMS API (`POST {to, from, text}` with a bearer token), e.g. a Twilio-style
    gateway: SMS_API_URL, SMS_API_TOKEN, SMS_SENDER. Sends our delivery id as Idempotency-Key."""

    def send(self, message: Message) -> Sent:
        headers = {"Authorization": f"Bearer {settings.SMS_API_TOKEN}"}
        if message.key:
            headers["Idempotency-Key"] = message.key
        payload = {"to": message.to[0], "from": settings.SMS_SENDER, "text": message.body}
        response = _post(settings.SMS_API_URL, payload, headers)
        if response.status_code >= 400:
            raise PermanentFailure(f"HTTP {response.status_code}: {response.text[:200]}")
        return Sent(provider_message_id=str(response.json().get("id", "")))


class Fcm:
    """Firebase Cloud Messaging HTTP v1: FCM_PROJECT_ID and FCM_CREDENTIALS_FILE (a service
    account JSON). One request per device token; tokens FCM calls unregistered are reported."""

    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

    def _token(self) -> str:
        from google.auth.transport.requests import Request
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(
            settings.FCM_CREDENTIALS_FILE, scopes=[self.SCOPE]
        )
        credentials.refresh(Request())
        return credentials.token

    def send(self, message: Message) -> Sent:
        url = f"https://fcm.googleapis.com/v1/projects/{settings.FCM_PROJECT_ID}/messages:send"
        headers = {"Authorization": f"Bearer {self._token()}"}
        ids, invalid = [], []
        for token in message.to:
            payload = {
                "message": {
                    "token": token,
                    "notification": {"title": message.subject, "body": message.body},
                    "data": {k: json.dumps(v) for k, v in message.data.items()},
                }
            }
            response = _post(url, payload, headers)
            if response.status_code in (400, 404) and "UNREGISTERED" in response.text:
                invalid.append(token)
            elif response.status_code >= 400:
                raise PermanentFailure(f"HTTP {response.status_code}: {response.text[:200]}")
            else:
                ids.append(response.json().get("name", ""))
        return Sent(provider_message_id=",".join(ids), invalid_tokens=tuple(invalid))
