"""A real HTTP receiver on 127.0.0.1 that can be told to answer 2xx, 5xx, a redirect, or to
hang past the client's timeout (the webhooks tests and the integration test use it)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the receiver does is `mode` ("ok", "fail", "redirect", "hang", "slow"), or the
    next of `script` while it lasts."""

    url: str = ""
    mode: str = "ok"
    script: deque = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_mode(self) -> str:
        with self.lock:
            return self.script.popleft() if self.script else self.mode

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.01)
        return len(self.received) >= count


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            mode = receiver.next_mode()
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            if mode == "hang":
                time.sleep(settings.WEBHOOKS_TIMEOUT_SECONDS + 0.5)
            if mode == "slow":
                time.sleep(0.5)
            status, text = {
                "fail": (500, "boom: the receiver broke"),
                "redirect": (302, ""),
            }.get(mode, (200, '{"received": true}'))
            payload = text.encode()
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)  # the client may have given up (the "hang" mode)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@contextlib.contextmanager
def serving() -> Iterator[Receiver]:
    box = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/finstack"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
