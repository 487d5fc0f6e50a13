"""A partner's system, as a separate process speaking only HTTP with an API key: registers a
webhook receiver, opens ledger accounts, posts and reverses. Prints what it did as JSON.

    python tests/integration/partner.py BASE_URL API_KEY RECEIVER_URL PHASE
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any


def call(base: str, key: str, method: str, path: str, body: Any = None, idem: str = "") -> Any:
    request = urllib.request.Request(  # noqa: S310 - the test's own http://127.0.0.1 server
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        | ({"Idempotency-Key": idem} if idem else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def open_account(base: str, key: str, code: str, kind: str) -> str:
    status, body = call(
        base, key, "POST", "/api/v1/ledger/accounts",
        {"code": code, "name": code, "type": kind, "currency": "EUR"},
    )  # fmt: skip
    assert status in (200, 201), body
    return body["id"]


def post(base: str, key: str, reference: str, debit: str, credit: str, amount: int) -> str:
    entries = [
        {"account": debit, "direction": "D", "amount": amount, "currency": "EUR"},
        {"account": credit, "direction": "C", "amount": amount, "currency": "EUR"},
    ]
    status, body = call(
        base, key, "POST", "/api/v1/ledger/transactions",
        {"reference": reference, "entries": entries}, idem=reference,
    )  # fmt: skip
    assert status in (200, 201), body
    return body["id"]


def main(base: str, key: str, receiver: str, phase: str) -> dict[str, Any]:
    done: dict[str, Any] = {}
    float_, card = (
        open_account(base, key, "float", "asset"),
        open_account(base, key, "card", "liability"),
    )
    if phase == "first":
        status, endpoint = call(base, key, "POST", "/api/v1/webhook-endpoints", {"url": receiver})
        assert status == 201, endpoint
        done["endpoint_id"], done["secret"] = endpoint["id"], endpoint["secret"]
        done["posted"] = post(base, key, "load-1", float_, card, 5_000)
        status, reversal = call(
            base, key, "POST", f"/api/v1/ledger/transactions/{done['posted']}/reverse",
            {"reference": "load-1-undo", "reason": "duplicate batch"}, idem="undo-1",
        )  # fmt: skip
        assert status == 201, reversal
        done["reversal"] = reversal["id"]
    else:
        endpoint_id = sys.argv[5]
        status, rotated = call(
            base, key, "POST", f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret", {}
        )
        assert status == 200, rotated
        done["secret"] = rotated["secret"]
        done["posted"] = post(base, key, "load-2", float_, card, 2_500)
    status, card_view = call(base, key, "GET", f"/api/v1/ledger/accounts/{card}")
    done["card_posted"] = card_view["posted"]
    return done


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))  # noqa: T201 - the test reads it
