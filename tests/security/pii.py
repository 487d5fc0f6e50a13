"""A pytest plugin that watches every log record of the whole test run for secrets and PII.

Registered from the root conftest (`pytest_plugins = ["tests.security.pii"]`). It adds one
handler to the root logger at DEBUG (and lowers the root logger to DEBUG, keeping the existing
handlers at the level they had, so the console prints what it printed before). The handler
runs the console handler's filters first (request id, redaction), so what it sees is what the
log output would carry, then keeps each formatted line: message, exception text, stack and
any `extra` fields (the JSON formatter would print those).

Two checks:
- `seed(value)` registers a secret (a password, token, TOTP secret, tax id...). At the end of
  the session any seeded value found in any line of the run (a code of digits: standing on
  its own) fails the session, with the offending lines in the terminal summary. Well-known
  test secrets (the mobile client's password, the KYC profile's tax id) are seeded for every
  run.
- Patterns that are secrets whoever wrote them (JWTs, `otpauth://` URIs, PEM private keys) fail
  the session wherever they appear.
Tests that want an answer now use `lines_since(mark)` / `leaks_in(lines)` (tests/security/
test_pii_logs.py).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import pytest

_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "trace_id",
}
PATTERNS = {
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "otpauth_uri": re.compile(r"otpauth://[^\s'\"]+", re.IGNORECASE),
    "private_key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "api_key": re.compile(r"fsk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}"),
}
# Secrets every run's fixtures use (apps/accounts/tests/mobile.py, apps/kyc/tests/factories.py).
ALWAYS = ("correct horse battery 9", "DE 123 456 789")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.seeds: set[str] = set(ALWAYS)
        self.lock_ = threading.Lock()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
            if extras:
                line = f"{line} {extras!r}"
        except Exception:  # noqa: BLE001 - a broken record must not break the run
            line = f"{record.name}: <unformattable {record.msg!r} {record.args!r}>"
        with self.lock_:
            self.lines.append(line)


_collector = _Collector()


def seed(*values: str) -> None:
    """Register secrets that must never reach a log line."""
    _collector.seeds.update(v for v in values if v)


def mark() -> int:
    return len(_collector.lines)


def lines_since(position: int) -> list[str]:
    return _collector.lines[position:]


def _pattern(secret: str) -> re.Pattern[str]:
    """A code of digits (a TOTP code) counts where it stands on its own: inside a longer run of
    digits or letters it is another value that happens to contain it, such as a task's runtime
    (0.0377771869...s) or a hex id (six given digits turn up by chance among a run's ids)."""
    if not secret.isdigit():
        return re.compile(re.escape(secret))
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])")


def leaks_in(lines: Iterable[str], secrets: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(what, line) for each seeded secret or secret pattern found."""
    wanted = [
        (s, _pattern(s)) for s in sorted(_collector.seeds if secrets is None else set(secrets))
    ]
    found = []
    for line in lines:
        found.extend((f"seeded secret {s!r}", line) for s, rx in wanted if rx.search(line))
        found.extend((name, line) for name, rx in PATTERNS.items() if rx.search(line))
    return found


def _install() -> None:
    root = logging.getLogger()
    if _collector in root.handlers:
        return
    for handler in root.handlers:
        if handler.level == logging.NOTSET:  # keep the console as verbose as it was
            handler.setLevel(root.level)
        for f in handler.filters:  # see what the console sees: request id, redaction
            if f not in _collector.filters:
                _collector.addFilter(f)
    root.addHandler(_collector)
    root.setLevel(logging.DEBUG)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _install()  # after pytest-django has configured Django (and its LOGGING)


@pytest.fixture(autouse=True)
def _pii_log_watch() -> None:
    """A test that re-configured logging (dictConfig, override_settings(LOGGING)) would have
    removed the handler: put it back before each test."""
    _install()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    leaks = leaks_in(_collector.lines)
    terminalreporter.write_sep("-", "PII in logs")
    terminalreporter.write_line(
        f"{len(_collector.lines)} log lines checked for {len(_collector.seeds)} seeded secrets "
        f"and {len(PATTERNS)} secret patterns: {len(leaks)} leaks"
    )
    for what, line in leaks[:50]:
        terminalreporter.write_line(f"LEAK {what}: {line[:500]}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if leaks_in(_collector.lines) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
