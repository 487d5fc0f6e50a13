import logging

from apps.core import context


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request (or task) id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        return True
