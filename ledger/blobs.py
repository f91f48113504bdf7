"""A content-addressed blob store on the local disk: bytes in, SHA-256 out.

Large or personal things (documents, sealed records, model reports) live here; the ledger
keeps only their hashes. Writes are atomic (temporary file, fsync, rename), so a crash never
leaves a half-written blob under a valid name, and every read re-checks the hash.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ledger.files import write_atomically

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BlobError(LookupError):
    """A blob is missing, or its bytes no longer match its name."""


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data, mode=0o440)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            data = self._path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobError(f"blob {digest} is missing") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobError(f"blob {digest} is corrupt: its bytes hash to something else")
        return data

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    def discard(self, digest: str) -> None:
        """Removes a blob that no ledger event will name (a command that was refused)."""
        self._path(digest).unlink(missing_ok=True)

    def _path(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise BlobError(f"{digest!r} is not a SHA-256 hex digest")
        return self.root / digest[:2] / digest[2:]
