"""Stripe-style idempotency for money POSTs (`@idempotent` on a DRF view method).

- No `Idempotency-Key` header: 400 `idempotency_key_required`.
- Same key, same body: the stored response is replayed (same status and body) with
  `Idempotent-Replayed: true`, without running the view again.
- Same key, different body or endpoint: 422 `idempotency_key_reused`, naming the fields.
- Same key while the first request still runs: 409 `idempotency_request_in_flight`.
Keys are scoped per user (per namespace for API keys). The claim is one INSERT ... ON CONFLICT
committed before the view runs, so racing duplicates get the replay or a 409, never a
unique-violation 500. Business refusals (DomainError) are stored and replayed; invalid input
and crashes release the key so the client can retry it.
Money endpoints read JSON bodies only: any other media type is 415 `unsupported_media_type`
before a record is claimed, so a multipart or form body never reaches the jsonb record.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.machine import principal
from apps.core.api.parsers import JSONParser
from apps.core.errors import Conflict, DomainError
from apps.core.models import IdempotencyRecord
from apps.core.retention import delete_in_batches

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyRequired(DomainError):
    code, http_status = "idempotency_key_required", 400
    message = "Send an Idempotency-Key header (1-255 printable ASCII characters)."


class IdempotencyKeyReused(DomainError):
    code, http_status = "idempotency_key_reused", 422
    message = "This Idempotency-Key was used for a different request."


class IdempotencyRequestInFlight(Conflict):
    code = "idempotency_request_in_flight"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


IDEMPOTENCY_ERRORS = (IdempotencyKeyRequired, IdempotencyKeyReused, IdempotencyRequestInFlight)


def _canonical(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True))


# Records are a cache of answers, not money: they commit without waiting for the WAL flush
# (async_commit below). The transfer's own commit flushes the WAL up to it anyway, claim
# included; a lost answer only makes a retry wait for the in-flight timeout, then replay
# through the ledger's business key.


def _claim(user_id: int, key: str, endpoint: str, digest: str, body: Any) -> int | None:
    """Insert the in-flight record (committed at once); None if the key exists."""
    stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_SECONDS)
    # Single statements in autocommit: the claim is visible to racing duplicates at once.
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))"
            " INSERT INTO core_idempotencyrecord (user_id, key, endpoint,"
            " request_hash, request_body, state, created_at)"
            " SELECT %s, %s, %s, %s, %s, 'in_flight', now() FROM async_commit"
            " ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user_id, key, endpoint, digest, json.dumps(body)],
        )
        row = cursor.fetchone()
        if row:
            return int(row[0])
        # A request that died in flight long ago may be taken over: the ledger's own business
        # keys still make the retry post at most once.
        cursor.execute(
            "UPDATE core_idempotencyrecord SET created_at = now() WHERE user_id = %s"
            " AND key = %s AND state = 'in_flight' AND request_hash = %s AND created_at < %s"
            " RETURNING id",
            [user_id, key, digest, stale],
        )
        row = cursor.fetchone()
        return int(row[0]) if row else None


def _differing_fields(old: Any, new: Any) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ["body"]
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _finish(record_id: int, status: int, body: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))"
            " UPDATE core_idempotencyrecord SET state = 'completed',"
            " response_status = %s, response_body = %s, completed_at = now()"
            " FROM async_commit WHERE id = %s",
            [status, json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True), record_id],
        )


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    @wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "")
        if not _VALID_KEY.match(key):
            raise IdempotencyKeyRequired()
        # Whatever the view or the settings allow: a money request is JSON, checked by the
        # parser that refuses text PostgreSQL cannot store.
        request.parsers = [JSONParser()]
        body = _canonical(request.data)
        endpoint = f"{request.method} {request.path}"
        digest = hashlib.sha256(json.dumps([endpoint, body], sort_keys=True).encode()).hexdigest()
        caller = principal(request)
        owner: int = caller.idempotency_id if caller else request.user.pk  # type: ignore[assignment]
        record_id = _claim(owner, key, endpoint, digest, body)
        if record_id is None:
            return _replay(owner, key, endpoint, digest, body)
        request.idempotency_key = key  # type: ignore[attr-defined]
        try:
            response = method(view, request, *args, **kwargs)
        except DomainError as error:
            if error.http_status >= 500 or error.http_status == 400:
                IdempotencyRecord.objects.filter(pk=record_id).delete()
            else:  # a business refusal is the answer to this request: replay it
                _finish(
                    record_id,
                    error.http_status,
                    {
                        "error": {
                            "code": error.code,
                            "message": error.message,
                            "details": error.details,
                        }
                    },
                )
            raise
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record_id).delete()
            raise
        if response.status_code >= 500 or response.status_code == 400:
            IdempotencyRecord.objects.filter(pk=record_id).delete()
        else:
            _finish(record_id, response.status_code, response.data)
        return response

    wrapper.domain_errors = IDEMPOTENCY_ERRORS  # type: ignore[attr-defined]
    wrapper.json_only = True  # type: ignore[attr-defined]  # read by the schema
    return wrapper


def _replay(user_id: int, key: str, endpoint: str, digest: str, body: Any) -> Response:
    record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if record is None:  # released between our claim and this read: treat as in flight
        raise IdempotencyRequestInFlight()
    if record.request_hash != digest:
        fields = (
            ["endpoint"]
            if record.endpoint != endpoint
            else _differing_fields(record.request_body, body)
        )
        raise IdempotencyKeyReused(fields=fields)
    if record.state != IdempotencyRecord.COMPLETED:
        raise IdempotencyRequestInFlight()
    return Response(
        record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
    )


# Through idempotency_created_idx, a batch at a time (apps.core.retention): a backlog is
# deleted by many short statements, not one that locks it all in one long transaction.
IDEMPOTENCY_CLEANUP_SQL = """
    DELETE FROM core_idempotencyrecord WHERE id IN (
        SELECT id FROM core_idempotencyrecord WHERE created_at < %(cutoff)s
        LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
"""


def idempotency_cleanup(*, batch: int = 5_000) -> int:
    """Delete every record past its time to live, `batch` rows a statement; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    return delete_in_batches(IDEMPOTENCY_CLEANUP_SQL, {"cutoff": cutoff}, batch=batch, batches=None)
