"""Files that arrive by upload: streamed to disk under a name we make, their first bytes
checked against the kind the form asked for, their size capped as they are copied.

Werkzeug already spools a large request part to a temporary file rather than memory; this
copies it, in blocks, into the instance's upload folder under a random name (the name the
browser sent is never a path here), refuses it the moment it passes the cap, and removes the
copy when the caller is done. What is inside is checked afterwards by the same services as a
CLI upload (services/uploads.py for PDFs, workers/models.py for bundles).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.datastructures import FileStorage

from services.errors import ServiceRefused
from web.context import services

BLOCK = 1 << 20
# The first bytes of each kind a form may ask for.
MAGIC: dict[str, tuple[tuple[int, bytes], ...]] = {
    "pdf": ((0, b"%PDF-"),),
    # zip, gzip, tar, bzip2, xz
    "archive": (
        (0, b"PK\x03\x04"),
        (0, b"\x1f\x8b"),
        (257, b"ustar"),
        (0, b"BZh"),
        (0, b"\xfd7zXZ"),
    ),
    "yaml": (),  # text: checked by its strict parser
    "text": (),
}


@contextmanager
def received(upload: FileStorage | None, kind: str, *, limit: int, what: str) -> Iterator[Path]:
    """The upload as a file of its own on disk, for the length of the ``with`` block."""
    if upload is None or not upload.filename:
        raise ServiceRefused(f"{what}: no file was chosen")
    folder = services().settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / secrets.token_hex(16)
    try:
        _copy(upload, path, limit=limit, what=what)
        _check_magic(path, kind, what)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _copy(upload: FileStorage, path: Path, *, limit: int, what: str) -> None:
    written = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        while block := upload.stream.read(BLOCK):
            written += len(block)
            if written > limit:
                raise ServiceRefused(f"{what}: larger than {limit // (1 << 20)} MiB")
            target.write(block)
    if written == 0:
        raise ServiceRefused(f"{what}: the file is empty")


def _check_magic(path: Path, kind: str, what: str) -> None:
    signatures = MAGIC[kind]
    if not signatures:
        return
    with path.open("rb") as stream:
        head = stream.read(512)
    if not any(head[offset : offset + len(magic)] == magic for offset, magic in signatures):
        raise ServiceRefused(f"{what}: not a {kind} file")
