import logging
import re

from opentelemetry import trace

from apps.core import context


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request (or task) id and, when tracing is on, the
    trace id, so a log line leads to its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        span = trace.get_current_span().get_span_context()
        record.trace_id = f"{span.trace_id:032x}" if span.is_valid else "-"
        return True


# Secrets that are recognisable whoever logs them: signed tokens, TOTP provisioning URIs,
# bearer credentials, webhook signing secrets, private keys. (Passwords, tax ids and the
# like are never logged by our code; tests/security/test_pii_logs.py checks that over the
# whole test run.)
_SECRETS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), "[jwt]"),
    (re.compile(r"otpauth://[^\s'\"]+", re.IGNORECASE), "[otpauth-uri]"),
    (re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{16,}"), r"\1 [redacted]"),
    (re.compile(r"whsec_[A-Za-z0-9_-]{16,}"), "[webhook-secret]"),  # apps.webhooks' secrets
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        "[private-key]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record whose message or traceback carries a token, TOTP URI or key."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the formatter's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            cleaned = redact(record.exc_text)
            if cleaned != record.exc_text:
                # The JSON formatter formats exc_info again: leave it only the cleaned text.
                record.exc_text, record.exc_info = cleaned, None
        return True
