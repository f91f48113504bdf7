"""Checks on uploaded documents (registration documents, technical reports), and the merge into
the one PDF the registration rules ask for.

A file is read with a cap: at most ``limit + 1`` bytes ever leave the disk, so a 768 MiB file
is refused after 20 MiB, not after it was read whole. It is accepted only if it starts with the
PDF magic bytes, opens with pypdf, is not encrypted, has at least one page, and carries no
active content: no JavaScript (document, page, annotation or form actions, ``javascript:``
links, XFA forms), no launch actions, no embedded files or attachments. Every object the file's
cross-reference table lists is inspected, reachable or not, and the raw bytes are searched
as well, for objects that only a lenient reader rebuilding a broken table would find.
Otherwise the refusal names the file and the reason. Nothing here stores anything: callers
seal the accepted bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from domain.errors import (
    DomainError,
    UploadEncrypted,
    UploadHasEmbeddedFile,
    UploadHasScript,
    UploadNotPdf,
    UploadTooLarge,
    UploadUnreadable,
    UploadWithoutPages,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
# More objects than a 20 MiB document of scans plausibly holds; past it the file is refused
# rather than walked for ever.
MAX_OBJECTS = 500_000
# What pypdf raises on a malformed file (services.report_sanitiser catches the same).
PDF_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError)

_SCRIPT_KEYS = frozenset({"/JS", "/JavaScript", "/XFA"})
_SCRIPT_ACTIONS = frozenset({"/JavaScript", "/Launch", "/RichMediaExecute"})
_EMBED_KEYS = frozenset({"/EmbeddedFiles", "/EF", "/RichMediaContent"})
_EMBED_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment"})
_SCRIPT_SCHEMES = ("javascript:", "vbscript:")
# Names searched for in the raw bytes; long enough never to occur by chance in binary data.
_RAW_MARKERS = ((b"/JavaScript", UploadHasScript), (b"/Launch", UploadHasScript),
                (b"/EmbeddedFile", UploadHasEmbeddedFile))  # fmt: skip


@dataclass(frozen=True)
class CheckedPdf:
    data: bytes
    pages: int

    @property
    def size(self) -> int:
        return len(self.data)


def read_at_most(path: Path, limit: int) -> bytes:
    """The file's first ``limit + 1`` bytes at most: enough to tell that it is over the limit
    without ever holding more of it. Raises ``OSError`` as ``open`` does."""
    with Path(path).open("rb") as stream:
        return stream.read(limit + 1)


def read_pdf(path: Path, *, limit: int = MAX_UPLOAD_BYTES) -> CheckedPdf:
    """One uploaded file, read with the cap and checked."""
    path = Path(path)
    try:
        data = read_at_most(path, limit)
    except OSError as error:
        raise UploadUnreadable(name=path.name, reason=error.strerror or str(error)) from None
    return check_pdf(data, name=path.name, limit=limit)


def read_pdfs(paths: Iterable[Path], *, name: str, limit: int = MAX_UPLOAD_BYTES) -> CheckedPdf:
    """Several uploaded files checked and merged, in order, into one document ``name``."""
    checked = [read_pdf(path, limit=limit) for path in paths]
    return checked[0] if len(checked) == 1 else _merge(checked, name=name, limit=limit)


def check_pdf(data: bytes, *, name: str, limit: int = MAX_UPLOAD_BYTES) -> CheckedPdf:
    return CheckedPdf(data=data, pages=len(checked_reader(data, name=name, limit=limit).pages))


def checked_reader(data: bytes, *, name: str, limit: int = MAX_UPLOAD_BYTES) -> PdfReader:
    """The open reader of a PDF that passes every check of an upload, for a caller that goes
    on to read the document (services.report_sanitiser): parsed and checked once, by one set of
    rules. Raises the upload's domain errors."""
    if len(data) > limit:
        raise UploadTooLarge(name=name, limit=limit)
    if not data.startswith(PDF_MAGIC):
        raise UploadNotPdf(name=name)
    reader = _reader(data, name)
    if reader.is_encrypted:
        raise UploadEncrypted(name=name)
    try:
        pages = len(reader.pages)
        refusal = _active_content(reader, data, name)
    except PDF_ERRORS as error:
        raise UploadUnreadable(name=name, reason=_reason(error)) from None
    if refusal is not None:
        raise refusal
    if pages == 0:
        raise UploadWithoutPages(name=name)
    return reader


def merge_pdfs(
    parts: list[tuple[str, bytes]], *, name: str, limit: int = MAX_UPLOAD_BYTES
) -> CheckedPdf:
    """Checks each part, then joins them in order; the result is checked like an upload."""
    checked = [check_pdf(data, name=part_name, limit=limit) for part_name, data in parts]
    return checked[0] if len(checked) == 1 else _merge(checked, name=name, limit=limit)


def _merge(checked: list[CheckedPdf], *, name: str, limit: int) -> CheckedPdf:
    writer = PdfWriter()
    for part in checked:
        writer.append(io.BytesIO(part.data))
    buffer = io.BytesIO()
    writer.write(buffer)
    return check_pdf(buffer.getvalue(), name=name, limit=limit)


def _reader(data: bytes, name: str) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(data), strict=True)
    except PDF_ERRORS as error:
        raise UploadUnreadable(name=name, reason=_reason(error)) from None


def _reason(error: Exception) -> str:
    return str(error).strip() or type(error).__name__


# --- active content --------------------------------------------------------------------------


def _active_content(reader: PdfReader, data: bytes, name: str) -> DomainError | None:
    """The refusal for the first script or embedded file found, or None."""
    for where, dictionary in _dictionaries(reader, name):
        refusal = _refusal(dictionary)
        if refusal is not None:
            return refusal(name=name, where=where)
    for marker, refusal in _RAW_MARKERS:
        offset = data.find(marker)
        if offset >= 0:
            return refusal(name=name, where=f"byte {offset}")
    return None


def _dictionaries(reader: PdfReader, name: str) -> Iterator[tuple[str, DictionaryObject]]:
    """Every dictionary of the file (streams included), each once, with the number of the
    object it belongs to: from the trailer, and from every object in the cross-reference
    table whether or not anything points to it."""
    stack: list[tuple[str, Any]] = [("trailer", reader.trailer)]
    for generation, numbers in reader.xref.items():
        stack += [("", IndirectObject(number, generation, reader)) for number in numbers]
    stack += [("", IndirectObject(number, 0, reader)) for number in reader.xref_objStm]
    seen: set[tuple[int, int]] = set()
    while stack:
        where, value = stack.pop()
        if isinstance(value, IndirectObject):
            key = (value.idnum, value.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_OBJECTS:
                raise UploadUnreadable(name=name, reason=f"more than {MAX_OBJECTS} objects")
            where, value = f"object {value.idnum}", value.get_object()
        if isinstance(value, DictionaryObject):
            yield where, value
            stack += [(where, item) for item in dict.values(value)]
        elif isinstance(value, ArrayObject):
            stack += [(where, item) for item in list.__iter__(value)]


def _refusal(dictionary: DictionaryObject) -> type[DomainError] | None:
    keys = set(dictionary.keys())
    if keys & _SCRIPT_KEYS or _name(dictionary, "/S") in _SCRIPT_ACTIONS:
        return UploadHasScript
    if _script_link(dictionary):
        return UploadHasScript
    if keys & _EMBED_KEYS or {_name(dictionary, "/Type"), _name(dictionary, "/Subtype")} & (
        _EMBED_TYPES
    ):
        return UploadHasEmbeddedFile
    return None


def _plain(dictionary: DictionaryObject, key: str) -> Any:
    value = dict.get(dictionary, key)
    return value.get_object() if isinstance(value, IndirectObject) else value


def _name(dictionary: DictionaryObject, key: str) -> str | None:
    value = _plain(dictionary, key)
    return str(value) if isinstance(value, str) else None


def _script_link(dictionary: DictionaryObject) -> bool:
    uri = _plain(dictionary, "/URI")
    if isinstance(uri, bytes):
        uri = uri.decode("latin-1")
    if not isinstance(uri, str):
        return False
    # Browsers drop white space and control characters inside a scheme: so does this check.
    squeezed = "".join(char for char in uri if char.isprintable() and not char.isspace())
    return squeezed.lower().startswith(_SCRIPT_SCHEMES)
