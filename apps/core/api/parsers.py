"""The API's JSON parser: DRF's, plus refusals for input PostgreSQL cannot store or Python
cannot walk, answered as 400 `parse_error` before any view code (or idempotency record) runs.

- NUL (U+0000) and unpaired surrogates (U+D800..U+DFFF) in any string or key: PostgreSQL's
  `text` and `jsonb` refuse both, so they would surface as a 500 from the first INSERT.
- Numbers too large for a float (`1e400` reads as infinity): JSON has no infinity, and
  `jsonb` refuses it.
- Nesting deeper than `MAX_DEPTH`: no request of ours nests more than a few levels, and a
  deep document makes `json` (and everything that walks it later) raise `RecursionError`.
The multipart parser refuses NUL and unpaired surrogates in field names and values too, as
400 `validation_error` naming the field, before any view code (or anything is stored).
Money endpoints accept JSON only (`apps.core.idempotency`), so they never see multipart.
Bodies over `DATA_UPLOAD_MAX_MEMORY_SIZE` never get here: `request.body` raises
`RequestDataTooBig`, which the exception handler answers with 413 `request_too_large`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise ParseError(
                    "JSON parse error - strings may not contain NUL characters or unpaired "
                    "surrogates."
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise ParseError("JSON parse error - number out of range.")
        elif isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        _check(data)
        return data


def _refusal(text: str) -> str | None:
    if "\x00" in text:
        return "Null characters are not allowed."  # DRF's own wording for CharField
    if _UNSTORABLE.search(text):
        return "Unpaired surrogates are not allowed."
    return None


def _check_fields(data: Any, files: Any) -> None:
    for name in [*data.keys(), *files.keys()]:
        if _refusal(name):
            raise ValidationError(
                {
                    "non_field_errors": [
                        "Field names may not contain null characters or unpaired surrogates."
                    ]
                }
            )
    for name, values in data.lists():
        for value in values:
            message = _refusal(value) if isinstance(value, str) else None
            if message:
                raise ValidationError({name: [message]})


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _check_fields(result.data, result.files)
        return result
