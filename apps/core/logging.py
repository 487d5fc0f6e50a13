import logging

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
