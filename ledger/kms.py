"""The master key that wraps every data key the vault keeps (a small KMS interface).

A data key at rest is never the key itself but the key encrypted under a master key, so that
the key files alone (a copied folder, a backup of ``keys/subjects``) open nothing, and so that
a hardware module or a cloud KMS can later hold the master key without the vault changing:
anything with ``wrap(key) -> bytes`` and ``unwrap(bytes) -> key`` serves. The one local
implementation keeps the master key in a file (``HUIYAN_HOME/keys/master.key``, 0600).

``context`` binds a wrapped key to what it is for (a subject's id, a contest's identity
secret), as a KMS's encryption context does: a wrapped key copied over another subject's file
does not unwrap there.
"""

from __future__ import annotations

import contextlib
import secrets
import stat
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.files import write_atomically

MAGIC = b"HYWK1"  # huiyan wrapped key, format 1: MAGIC || nonce || AES-256-GCM(key)
_NONCE = 12
_TAG = 16
_AAD = b"huiyan key wrap v1\n"
MASTER_KEY_FILE = "master.key"


class KeyWrapError(ValueError):
    """A wrapped key does not unwrap (tampered, truncated, another master key), or the master
    key is missing or unsafe; the message says which."""


class KeyWrapper(Protocol):
    """What the vault needs of a KMS."""

    def wrap(self, key: bytes, *, context: bytes = b"") -> bytes: ...

    def unwrap(self, wrapped: bytes, *, context: bytes = b"") -> bytes: ...


def is_wrapped(data: bytes) -> bool:
    return data.startswith(MAGIC)


class LocalMasterKey:
    """The master key in a 0600 file, made on first wrap. A master key readable by anyone else
    is refused: whoever reads it and a key file opens a team's personal data."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def wrap(self, key: bytes, *, context: bytes = b"") -> bytes:
        if not self.path.exists():
            with contextlib.suppress(FileExistsError):  # another process made it first
                write_secret(self.path, AESGCM.generate_key(bit_length=256))
        nonce = secrets.token_bytes(_NONCE)
        return MAGIC + nonce + self._cipher().encrypt(nonce, key, _AAD + context)

    def unwrap(self, wrapped: bytes, *, context: bytes = b"") -> bytes:
        if not is_wrapped(wrapped) or len(wrapped) <= len(MAGIC) + _NONCE + _TAG:
            raise KeyWrapError("it is not a wrapped key (truncated or altered)")
        body = wrapped[len(MAGIC) :]
        try:
            return self._cipher().decrypt(body[:_NONCE], body[_NONCE:], _AAD + context)
        except InvalidTag:
            raise KeyWrapError(
                "it does not unwrap under the master key (altered, moved from another "
                "subject's file, or wrapped under another master key)"
            ) from None

    def _cipher(self) -> AESGCM:
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise KeyWrapError(f"there is no master key at {self.path}") from None
        if mode & 0o077:
            raise KeyWrapError(
                f"the master key {self.path} is open to others (mode {mode:04o}); it must be 0600"
            )
        if len(data) != 32:
            raise KeyWrapError(f"the master key {self.path} is not a 256-bit key")
        return AESGCM(data)


def write_secret(path: Path, secret: bytes) -> None:
    """Writes a 0600 file and links it into place: never overwrites a key, and no reader ever
    sees a half-written one (FileExistsError when the name is taken)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, secret, exclusive=True)
