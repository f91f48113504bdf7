"""The human-readable part of an audit bundle: who did what, when, with what meaning.

One line per bundled entry: its position, its time, the event, the aggregate, the actor and,
for a decision, the meaning its maker signed. Actors are account ids: a printed name is
personal data that an exporter may not be entitled to see, so the report never unseals one
(an entitled reader resolves an id with ``huiyan signatures verify POSITION --show-name``).
The report is a reading aid; the proof is the rest of the bundle, which ``huiyan-verify``
checks (the report is covered by the manifest only).

Both renderings are deterministic (reportlab's invariant mode for the PDF), so exporting the
same matter against the same checkpoint at the same time gives the same bytes.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from domain.signatures import FIELD
from ledger.rows import Entry

# Fields that name who acted, in the order they are looked for, when nobody signed; an event
# without one (a worker's report, a person's own step) says so rather than guess.
ACTOR_FIELDS = ("by", "arbitrator", "expert", "operator")
NOBODY = "(not recorded)"
COLUMNS = ("position", "time", "event", "aggregate", "actor", "meaning")
WIDTHS = (8, 26, 36, 37, 37, 10)  # characters, for the PDF's fixed-width lines


@dataclass(frozen=True)
class ReportLine:
    position: int
    time: str
    event: str
    aggregate: str
    actor: str
    meaning: str

    def cells(self) -> tuple[str, ...]:
        return (str(self.position), self.time, self.event, self.aggregate, self.actor,
                self.meaning)  # fmt: skip


def line_of(entry: Entry, state: Mapping[str, Any] | None) -> ReportLine:
    """The report's line for an entry, from its decoded state (None: it does not decode)."""
    event = entry.topic.rsplit(":", 1)[-1]
    if state is None:
        return ReportLine(entry.position, "", event, str(entry.originator_id), "?",
                          "(state does not decode)")  # fmt: skip
    record = state.get(FIELD)
    manifest = record.get("manifest") if isinstance(record, dict) else None
    if isinstance(manifest, dict):
        actor, meaning = str(manifest.get("signer", "?")), str(manifest.get("meaning", "?"))
    else:
        found = (state.get(name) for name in ACTOR_FIELDS)
        actor, meaning = next((_text(v) for v in found if v is not None), NOBODY), ""
    when = state.get("at") or state.get("timestamp")
    return ReportLine(entry.position, _text(when), event, str(entry.originator_id), actor, meaning)


def _text(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return "" if value is None else str(value)


def _header_lines(header: Mapping[str, Any]) -> list[str]:
    subject = header["subject"] or "the whole ledger"
    return [
        f"Audit bundle ({header['format']}): {header['scope']} {subject}",
        f"Ledger {header['origin']}, checkpoint size {header['tree_size']}, "
        f"root {header['root_hash']}",
        f"Exported {header['exported_at']} by account {header['exported_by']} "
        f"({header['role']}); {header['entries']} entries, "
        f"{header['personal_signatures']} personal signatures",
        "Actors are account ids. Check this bundle with: huiyan-verify BUNDLE.zip --keys "
        "ledger.vkeys (or --checkpoint a checkpoint you kept).",
    ]


def report_html(header: Mapping[str, Any], lines: Sequence[ReportLine]) -> bytes:
    head = "".join(f"<p>{html.escape(text)}</p>\n" for text in _header_lines(header))
    titles = "".join(f"<th>{name}</th>" for name in COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in line.cells()) + "</tr>\n"
        for line in lines
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>huiyan audit bundle</title>\n<style>body{font-family:sans-serif}"
        "table{border-collapse:collapse;font-size:small}td,th{border:1px solid #999;"
        "padding:2px 6px;text-align:left}td{font-family:monospace}</style>\n</head>\n<body>\n"
        f"<h1>huiyan audit bundle</h1>\n{head}<table>\n<tr>{titles}</tr>\n{rows}</table>\n"
        "</body>\n</html>\n"
    )
    return page.encode()


def report_pdf(header: Mapping[str, Any], lines: Sequence[ReportLine]) -> bytes:
    """A landscape A4 listing in fixed-width type: fast enough for a whole ledger (a table
    layout engine is not), and every cell where its column says."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    canvas.setTitle("huiyan audit bundle")
    y = _page_top(canvas, height, _header_lines(header))
    for line in lines:
        if y < 36:
            canvas.showPage()
            y = _page_top(canvas, height, [])
        canvas.setFont("Courier", 7)
        canvas.drawString(36, y, _fixed(line.cells()))
        y -= 9
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _page_top(canvas: Canvas, height: float, header: list[str]) -> float:
    y = height - 36
    canvas.setFont("Helvetica", 8)
    for text in header:
        canvas.drawString(36, y, text)
        y -= 11
    canvas.setFont("Courier-Bold", 7)
    canvas.drawString(36, y - 4, _fixed(COLUMNS))
    return y - 15


def _fixed(cells: Sequence[str]) -> str:
    return " ".join(cell[:width].ljust(width) for cell, width in zip(cells, WIDTHS, strict=True))
