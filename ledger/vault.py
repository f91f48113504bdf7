"""Keys for personal data: one AES-256-GCM data key per subject, and the server's secret for
keyed hashes of low-entropy identifiers.

Keys are files under ``<keys_dir>/subjects`` (mode 0600), outside the event tables, so that
destroying a subject's key crypto-shreds everything sealed with it while every hash in the
ledger still verifies. Identity numbers are hashed with HMAC-SHA256 under the server secret:
a plain hash of an 18-digit ID number could be brute-forced from the ledger.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.blobs import BlobStore

_NONCE = 12


class VaultError(LookupError):
    """A key is missing (perhaps shredded) or sealed bytes do not open under it."""


class Vault:
    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = Path(keys_dir)

    # --- per-subject data keys -------------------------------------------------------------

    def create_key(self, subject: UUID) -> None:
        _write_secret(self._key_path(subject), AESGCM.generate_key(bit_length=256))

    def has_key(self, subject: UUID) -> bool:
        return self._key_path(subject).exists()

    def destroy_key(self, subject: UUID) -> None:
        """Crypto-shredding: the sealed data stays, unreadable for ever."""
        path = self._key_path(subject)
        if path.exists():
            with open(path, "r+b") as stream:
                stream.write(secrets.token_bytes(path.stat().st_size))
                stream.flush()
                os.fsync(stream.fileno())
            path.unlink()

    def seal(self, subject: UUID, plaintext: bytes) -> bytes:
        """nonce || AES-GCM ciphertext; the subject id is the associated data, so a sealed
        record cannot be passed off as another subject's."""
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._cipher(subject).encrypt(nonce, plaintext, subject.bytes)

    def open(self, subject: UUID, sealed: bytes) -> bytes:
        try:
            return self._cipher(subject).decrypt(sealed[:_NONCE], sealed[_NONCE:], subject.bytes)
        except InvalidTag:
            raise VaultError(f"sealed data does not open under the key of {subject}") from None

    def seal_to(self, blobs: BlobStore, subject: UUID, plaintext: bytes) -> str:
        """Seals and stores; returns the ciphertext's hash, the only thing events may carry."""
        return blobs.put(self.seal(subject, plaintext))

    def open_from(self, blobs: BlobStore, subject: UUID, digest: str) -> bytes:
        return self.open(subject, blobs.get(digest))

    # --- keyed hashes ------------------------------------------------------------------------

    def keyed_hash(self, value: str) -> str:
        """HMAC-SHA256 under the server secret, for uniqueness checks on identifiers."""
        return hmac.new(self._server_secret(), value.encode(), hashlib.sha256).hexdigest()

    def _server_secret(self) -> bytes:
        path = self.keys_dir / "identity-hmac.key"
        if not path.exists():
            with contextlib.suppress(FileExistsError):  # another process made it first
                _write_secret(path, secrets.token_bytes(32))
        return path.read_bytes()

    def _cipher(self, subject: UUID) -> AESGCM:
        try:
            return AESGCM(self._key_path(subject).read_bytes())
        except FileNotFoundError:
            raise VaultError(f"no data key for {subject} (never made, or shredded)") from None

    def _key_path(self, subject: UUID) -> Path:
        return self.keys_dir / "subjects" / f"{UUID(str(subject))}.key"


def _write_secret(path: Path, secret: bytes) -> None:
    """Writes a 0600 file and links it into place: never overwrites a key, and no reader ever
    sees a half-written one (FileExistsError when the name is taken)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(secret)
            stream.flush()
            os.fsync(stream.fileno())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
