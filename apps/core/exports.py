"""Spreadsheets the project writes (statements, admin exports) escape cells that a spreadsheet
program would run as a formula, as OWASP's CSV-injection guidance says: a text cell starting
with = + - @, a tab or a carriage return (or their full-width forms) gets a leading `'`.
Customers write transfer notes and names that reach other people's statements and staff
exports, so every text cell is treated as hostile. Numbers, and text that is only a number
(a negative amount), stay as they are: a spreadsheet reads those as values, not formulas."""

from __future__ import annotations

import re
from typing import Any

import tablib
from import_export.formats import base_formats

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


class _Escaping:
    """An import-export format that escapes every cell before writing (the library's own
    IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only drops one leading `=`)."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> Any:
        escaped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            escaped.append([spreadsheet_safe(cell) for cell in row])
        return super().export_data(escaped, **kwargs)  # type: ignore[misc]


class CSV(_Escaping, base_formats.CSV):
    pass


class TSV(_Escaping, base_formats.TSV):
    pass


class XLSX(_Escaping, base_formats.XLSX):
    pass


EXPORT_FORMATS = [fmt for fmt in (CSV, XLSX, TSV) if fmt.is_available()]


class SafeExportMixin:
    """First among an admin's bases, before import-export's mixins: only escaping formats."""

    export_formats = EXPORT_FORMATS
