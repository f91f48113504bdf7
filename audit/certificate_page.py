"""The printed page of an award certificate (reportlab): the award in Chinese and English, and
the ledger evidence in small print with the command that checks it.

Chinese is set in reportlab's ``STSong-Light`` CID font: it is not embedded (a viewer supplies
the glyphs, as every mainstream one does) and maps to Unicode, so text extraction (pypdf)
gives the characters back. The document is made in reportlab's invariant mode (a fixed date
and an identifier derived from the content), so that the same certificate gives the same bytes.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfdoc import PDFDocument, PDFInfo, PDFString
from reportlab.pdfgen.canvas import Canvas

if TYPE_CHECKING:
    from audit.certificates import Certificate

INFO_KEY = b"/HuiyanCertificate"
CJK = "STSong-Light"
LATIN, LATIN_BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier"
WIDTH, HEIGHT = A4
MARGIN = 56.0
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
VERIFY_COMMAND = "huiyan certificate verify CERTIFICATE.pdf --keys LEDGER-KEYS.txt"


@functools.cache
def _register_fonts() -> None:
    """Once per process: reportlab keeps registered fonts in a global table."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))


class _InfoWithCertificate(PDFInfo):
    """reportlab's document information plus the machine-readable certificate.

    reportlab writes only the standard entries, so ours is added before the dictionary's
    closing ``>>``; it also goes into the document's fingerprint (the PDF identifier), so two
    certificates never share one.
    """

    def __init__(self, payload: str) -> None:
        super().__init__()
        self.payload = payload

    def digest(self, md5object: object) -> None:
        super().digest(md5object)
        md5object.update(self.payload.encode())  # type: ignore[attr-defined]

    def format(self, document: PDFDocument) -> bytes:
        standard = super().format(document)
        head, closing, tail = standard.rpartition(b">>")
        if not closing:
            raise RuntimeError("reportlab's document information is not a dictionary")
        entry = INFO_KEY + b" " + PDFString(self.payload).format(document) + b"\n"
        return head + entry + closing + tail


def certificate_pdf(certificate: Certificate, payload: str) -> bytes:
    """The page for ``certificate``, with ``payload`` (its JSON) in the document information."""
    _register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas._doc.info = _InfoWithCertificate(payload)  # reportlab has no public hook for it
    canvas.setTitle(f"荣誉证书 Certificate of award: {certificate.team_name}")
    canvas.setAuthor(certificate.contest["en"])
    canvas.setSubject(f"ledger position {certificate.evidence.position}")
    canvas.setCreator("huiyan")
    _draw_border(canvas)
    _draw_award(canvas, certificate)
    _draw_evidence(canvas, certificate)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _centred(canvas: Canvas, text: str, font: str, size: float, y: float) -> None:
    """One centred line, made smaller until it fits between the margins."""
    width = WIDTH - 2 * MARGIN
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawCentredString(WIDTH / 2, y, text)


def _draw_border(canvas: Canvas) -> None:
    canvas.setLineWidth(2)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    canvas.setLineWidth(0.5)
    canvas.rect(MARGIN / 2 + 6, MARGIN / 2 + 6, WIDTH - MARGIN - 12, HEIGHT - MARGIN - 12)


def _draw_award(canvas: Canvas, certificate: Certificate) -> None:
    line = functools.partial(_centred, canvas)
    line("荣誉证书", CJK, 32, 742)
    line("CERTIFICATE OF AWARD", LATIN_BOLD, 15, 714)
    line(certificate.contest["zh"], CJK, 16, 668)
    line(certificate.contest["en"], LATIN, 12, 648)
    line("兹证明 This is to certify that", CJK, 12, 600)
    line(certificate.team_name, CJK, 26, 556)
    track = f"赛道 {certificate.track} / Track {certificate.track}: {certificate.track_name}"
    line(track, CJK, 13, 516)
    line("荣获 has been awarded", CJK, 12, 484)
    line(certificate.award["zh"], CJK, 30, 440)
    line(certificate.award["en"], LATIN_BOLD, 18, 412)
    score = f"{certificate.final_score:.4f}"
    line(f"名次 Rank {certificate.rank}    最终得分 Final score {score}", CJK, 12, 372)
    zh_date, en_date = _dates(certificate.awarded_at)
    line(f"颁发日期 {zh_date}    Awarded on {en_date}", CJK, 12, 352)


def _dates(when: datetime) -> tuple[str, str]:
    """The award's date in Chinese and English, in its own time zone (never the locale's)."""
    return (
        f"{when.year}年{when.month}月{when.day}日",
        f"{when.day} {MONTHS[when.month - 1]} {when.year}",
    )


EXPLANATION = (
    (CJK, "此奖项是比赛签名账本中的一个事件。任何人都可离线核验：下列检查点由账本密钥签名，"),
    (CJK, "且包含证明表明该条目在检查点的默克尔树中（证明与签名检查点均嵌于本文件）。"),
    (LATIN, "This award is an event in the contest's signed ledger. Anyone can check offline that "
            "the checkpoint below is signed by the ledger's key"),
    (LATIN, "and that the entry is in its Merkle tree (the proof and the signed checkpoint are "
            "inside this file)."),
)  # fmt: skip
KEYS_NOTE = (
    "LEDGER-KEYS.txt: the ledger's public verifier keys, as `huiyan ledger keys` prints them. "
    "See docs/certificates.md."
)


def _evidence_lines(certificate: Certificate) -> list[tuple[str, float, str]]:
    """The small print, line by line: (font, size, text)."""
    evidence = certificate.evidence
    origin, size, root = _note_head(evidence.checkpoint)
    facts = [
        f"position    {evidence.position}",
        f"leaf hash   {evidence.leaf_hash}",
        f"checkpoint  origin {origin}, tree size {size}",
        f"root hash   {root} (base64)",
    ]
    return [
        (CJK, 9, "账本证据 Ledger evidence"),
        *((font, 7, text) for font, text in EXPLANATION),
        *((MONO, 7, text) for text in facts),
        (CJK, 7, "核验命令 To check it:"),
        (MONO, 7, VERIFY_COMMAND),
        (LATIN, 7, KEYS_NOTE),
    ]


def _draw_evidence(canvas: Canvas, certificate: Certificate) -> None:
    y = 250.0
    for font, size, text in _evidence_lines(certificate):
        canvas.setFont(font, size)
        canvas.drawString(MARGIN, y, text)
        y -= size * 1.6


def _note_head(note: str) -> tuple[str, str, str]:
    """Origin, tree size and root hash as the checkpoint's text states them, for display only:
    whether they are signed is the verifier's business, not the printer's."""
    lines = (note.split("\n") + ["?", "?", "?"])[:3]
    return lines[0], lines[1], lines[2]
