#!/usr/bin/env python3
"""Verify exported ledger checkpoints offline (standard library only).

    python3 verify_checkpoints.py day1.json day2.json ...

Recomputes each checkpoint's hash from its heads and checks that each one chains to the
previous file's hash. Exit status 0 when every link holds, 1 at the first broken one.
"""

import hashlib
import json
import sys


def checkpoint_hash(previous: bytes, day: str, heads: list[dict]) -> bytes:
    digest = hashlib.sha256(previous)
    digest.update(day.encode())
    rows = sorted((h["account_id"], h["shard"], h["seq"], bytes.fromhex(h["hash"])) for h in heads)
    for account, shard, seq, head in rows:
        digest.update(f"\n{account}|{shard}|{seq}|{head.hex()}".encode())
    return digest.digest()


def main(paths: list[str]) -> int:
    documents = [json.load(open(path)) for path in paths]  # noqa: SIM115 - short-lived script
    documents.sort(key=lambda d: d["day"])
    previous = None
    for document in documents:
        if previous is not None and document["previous_hash"] != previous:
            print(f"BROKEN {document['day']}: does not chain to {previous[:16]}...")
            return 1
        recomputed = checkpoint_hash(
            bytes.fromhex(document["previous_hash"]), document["day"], document["heads"]
        ).hex()
        if recomputed != document["hash"]:
            print(f"BROKEN {document['day']}: hash does not match its heads")
            return 1
        previous = document["hash"]
    print(f"OK {len(documents)} checkpoints")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
