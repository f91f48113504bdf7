"""Checks on uploaded registration documents, and the merge into the one PDF the rules ask for.

A file is accepted only if it starts with the PDF magic bytes, is under the size cap, opens
with pypdf, is not encrypted and has at least one page; otherwise the refusal names the file
and the reason. Nothing here stores anything: callers seal the accepted bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from domain.errors import (
    UploadEncrypted,
    UploadNotPdf,
    UploadTooLarge,
    UploadUnreadable,
    UploadWithoutPages,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class CheckedPdf:
    data: bytes
    pages: int

    @property
    def size(self) -> int:
        return len(self.data)


def check_pdf(data: bytes, *, name: str, limit: int = MAX_UPLOAD_BYTES) -> CheckedPdf:
    if len(data) > limit:
        raise UploadTooLarge(name=name, size=len(data), limit=limit)
    if not data.startswith(PDF_MAGIC):
        raise UploadNotPdf(name=name)
    reader = _reader(data, name)
    if reader.is_encrypted:
        raise UploadEncrypted(name=name)
    try:
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError) as error:
        raise UploadUnreadable(name=name, reason=_reason(error)) from None
    if pages == 0:
        raise UploadWithoutPages(name=name)
    return CheckedPdf(data=data, pages=pages)


def merge_pdfs(
    parts: list[tuple[str, bytes]], *, name: str, limit: int = MAX_UPLOAD_BYTES
) -> CheckedPdf:
    """Checks each part, then joins them in order; the result is checked like an upload."""
    checked = [check_pdf(data, name=part_name, limit=limit) for part_name, data in parts]
    if len(checked) == 1:
        return checked[0]
    writer = PdfWriter()
    for part in checked:
        writer.append(io.BytesIO(part.data))
    buffer = io.BytesIO()
    writer.write(buffer)
    return check_pdf(buffer.getvalue(), name=name, limit=limit)


def _reader(data: bytes, name: str) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(data), strict=True)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError) as error:
        raise UploadUnreadable(name=name, reason=_reason(error)) from None


def _reason(error: Exception) -> str:
    return str(error).strip() or type(error).__name__
