"""An account statement for a month as CSV or PDF (ReportLab)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from apps.core.exports import spreadsheet_safe
from apps.core.money import Money


@dataclass(frozen=True)
class Statement:
    holder: str
    wallet_id: str
    currency: str
    month: date
    opening: int
    lines: list  # ledger_selectors.StatementLine
    closing: int


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _money(amount: int, currency: str) -> str:
    return str(Money(amount, currency))


class _SafeWriter:
    """Transfer notes are written by the sender and read by the recipient in a spreadsheet."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: list) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])


def as_csv(statement: Statement) -> bytes:
    out = io.StringIO()
    writer = _SafeWriter(csv.writer(out))
    writer.writerow(["date", "transaction", "kind", "description", "amount", "balance", "currency"])
    writer.writerow(
        [
            statement.month.isoformat(),
            "",
            "opening balance",
            "",
            "",
            statement.opening,
            statement.currency,
        ]
    )
    for line in statement.lines:
        writer.writerow(
            [
                line.posted_at.isoformat(),
                line.transaction_id,
                line.kind,
                line.description,
                line.amount,
                line.balance,
                statement.currency,
            ]
        )
    writer.writerow(["", "", "closing balance", "", "", statement.closing, statement.currency])
    return out.getvalue().encode()


def as_pdf(statement: Statement) -> bytes:
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Finstack statement {statement.month:%Y-%m}")
    cur = statement.currency
    rows = [["Date", "Description", "Amount", "Balance"]]
    rows.append(
        [statement.month.isoformat(), "Opening balance", "", _money(statement.opening, cur)]
    )
    for line in statement.lines:
        rows.append(
            [
                line.posted_at.strftime("%Y-%m-%d %H:%M"),
                (line.description or line.kind)[:60],
                _money(line.amount, cur),
                _money(line.balance, cur),
            ]
        )
    rows.append(["", "Closing balance", "", _money(statement.closing, cur)])
    table = Table(rows, repeatRows=1, colWidths=[95, 230, 90, 100])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#0b5cff")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    doc.build(
        [
            Paragraph("Finstack account statement", styles["Title"]),
            Paragraph(
                f"{statement.holder} · wallet {statement.wallet_id} · {cur} · "
                f"{statement.month:%B %Y}",
                styles["Normal"],
            ),
            Spacer(1, 12),
            table,
        ]
    )
    return out.getvalue()
