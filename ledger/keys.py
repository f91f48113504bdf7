"""The ledger's Ed25519 signing keys: created on first use, rotated, exported for verifiers.

A key is named by its C2SP signed-note key hash (the first 4 bytes of
SHA-256(name || 0x0A || 0x01 || public key), written as 8 hex digits), so the id stored beside
every event is the same id a checkpoint's signature line carries, and the exported verifier keys
(``<name>+<hex id>+<base64(0x01 || public key)>``, the C2SP "vkey" form) are all an offline
verifier needs.

Layout under ``HUIYAN_HOME/keys`` (folder 0700, files 0600):
``ledger-<id>.key`` (PEM PKCS#8 private key, only for the active key), ``ledger-<id>.vkey``
(verifier key, kept for every key ever used) and ``ledger-active`` (the active id). Rotation
(ledger.rotation) writes a new key, records the handover in the ledger, then points
``ledger-active`` at it and deletes the old private key: a retired key can never sign again,
but its public half still verifies the history it signed.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.files import write_atomically

ED25519_ALGORITHM = b"\x01"  # C2SP signed-note signature type for Ed25519


class LedgerKeyError(Exception):
    """A key cannot be created, read or found; the message names the file or the key id."""


def key_hash(
    name: str, public_key: Ed25519PublicKey, algorithm: bytes = ED25519_ALGORITHM
) -> bytes:
    """The 4-byte C2SP note key hash that identifies a key (and names it in checkpoints).

    The signature type byte is hashed in, so one Ed25519 key used as a witness's cosigner
    (type 0x04, ledger.cosignature) has another id than as a log's signer (0x01)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + algorithm + raw).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A public key as an offline verifier holds it."""

    name: str
    key_id: str
    public_key: Ed25519PublicKey
    algorithm: bytes = ED25519_ALGORITHM

    def __hash__(self) -> int:
        """By value (the key's bytes): cryptography's key objects are unhashable, and
        Settings, which holds the witnesses' keys, is a cache key of the workers'."""
        return hash((self.name, self.key_id, self.algorithm, self.raw))

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except (InvalidSignature, TypeError, ValueError):  # a stored value may be anything
            return False
        return True

    @property
    def raw(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def encode(self) -> str:
        """The C2SP vkey line."""
        blob = base64.b64encode(self.algorithm + self.raw).decode()
        return f"{self.name}+{self.key_id}+{blob}"

    @classmethod
    def decode(cls, line: str, algorithm: bytes = ED25519_ALGORITHM) -> VerifierKey:
        """Parse a vkey line of this signature type (a cosigner's vkey is no log key)."""
        try:
            name, key_id, blob = line.strip().split("+", 2)
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise LedgerKeyError(
                f"not a verifier key line (name+id+base64): {line.strip()!r}"
            ) from None
        if len(raw) != 33 or raw[:1] != algorithm:
            raise LedgerKeyError(
                f"verifier key {key_id!r} is not an Ed25519 key of signature type "
                f"0x{algorithm.hex()}"
            )
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
        if key_hash(name, public_key, algorithm).hex() != key_id:
            raise LedgerKeyError(f"verifier key {key_id!r} does not match its name and public key")
        return cls(name=name, key_id=key_id, public_key=public_key, algorithm=algorithm)


@dataclass(frozen=True)
class SigningKey:
    """The key the ledger signs with now (or, with type 0x04, a witness's cosigning key)."""

    name: str
    private_key: Ed25519PrivateKey
    algorithm: bytes = ED25519_ALGORITHM

    @property
    def verifier(self) -> VerifierKey:
        public_key = self.private_key.public_key()
        key_id = key_hash(self.name, public_key, self.algorithm).hex()
        return VerifierKey(self.name, key_id, public_key, self.algorithm)

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def pem(self) -> bytes:
        """The private key as PEM PKCS#8, unencrypted: for a file only its owner can read."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def read_verifier_keys(
    lines: Iterable[str], algorithm: bytes = ED25519_ALGORITHM
) -> dict[str, VerifierKey]:
    """Parse exported verifier keys (one per line; blank lines and # comments skipped)."""
    keys = {}
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            key = VerifierKey.decode(line, algorithm)
            keys[key.key_id] = key
    return keys


def load_private_key(
    path: Path, name: str, algorithm: bytes = ED25519_ALGORITHM, what: str = "ledger key"
) -> SigningKey:
    """Load a PEM Ed25519 private key, e.g. one provisioned from a secret store in production
    (``what`` names it in errors: the ledger's key, or a witness's)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LedgerKeyError(f"cannot read {what} {path}: {error.strerror}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise LedgerKeyError(f"{what} {path} is not a readable PEM private key") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise LedgerKeyError(f"{what} {path} is not an Ed25519 key")
    return SigningKey(name=name, private_key=private_key, algorithm=algorithm)


class Keyring:
    """The keys folder of one huiyan instance."""

    def __init__(self, folder: Path, name: str, provisioned_key: Path | None = None) -> None:
        self.folder = folder
        self.name = name
        self.provisioned_key = provisioned_key

    @property
    def _active_file(self) -> Path:
        return self.folder / "ledger-active"

    def signing_key(self, *, create: bool = True) -> SigningKey:
        """The active key; on first use in a fresh folder, a new one."""
        if self.provisioned_key is not None:
            key = load_private_key(self.provisioned_key, self.name)
            self._remember(key.verifier)
            return key
        with self._locked():
            if not self._active_file.exists():
                if not create:
                    raise LedgerKeyError(f"no ledger key in {self.folder}")
                return self._create()
            key_id = self._active_file.read_text().strip()
            return load_private_key(self.folder / f"ledger-{key_id}.key", self.name)

    def private_key(self, key_id: str) -> SigningKey | None:
        """The private key with this id, when this instance holds it (else None).

        The recorder asks for the key that signed the ledger's head: after a rotation by
        another process, that is how it learns the new key without a restart.
        """
        if self.provisioned_key is not None:
            key = load_private_key(self.provisioned_key, self.name)
            return key if key.key_id == key_id else None
        path = self.folder / f"ledger-{key_id}.key"
        if not (len(key_id) == 8 and key_id.isalnum() and path.is_file()):
            return None
        return load_private_key(path, self.name)

    def new_key(self) -> SigningKey:
        """A fresh key, stored but not active yet: it becomes active once the ledger holds
        the handover that introduces it (``activate``)."""
        if self.provisioned_key is not None:
            raise LedgerKeyError(
                "the ledger key is provisioned (HUIYAN_LEDGER_KEY): rotate it there"
            )
        with self._locked():
            return self._create(activate=False)

    def activate(self, key: SigningKey) -> None:
        """Make ``key`` the active key and destroy every other private key (their public
        keys stay): a retired key can never sign again."""
        with self._locked():
            write_atomically(self._active_file, key.key_id.encode() + b"\n")
            for path in self.folder.glob("ledger-*.key"):
                if path.name != f"ledger-{key.key_id}.key":
                    path.unlink(missing_ok=True)

    def verifier_keys(self) -> dict[str, VerifierKey]:
        """Every public key this instance has ever signed with, oldest first (in the order
        their files were written: key ids are random, so their names say nothing of it)."""
        if not self.folder.is_dir():
            return {}
        keys: dict[str, VerifierKey] = {}
        files = self.folder.glob("ledger-*.vkey")
        for path in sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name)):
            keys.update(read_verifier_keys(path.read_text().splitlines()))
        return keys

    def _create(self, *, activate: bool = True) -> SigningKey:
        key = SigningKey(self.name, Ed25519PrivateKey.generate())
        write_atomically(self.folder / f"ledger-{key.key_id}.key", key.pem())
        self._remember(key.verifier)
        if activate:
            write_atomically(self._active_file, key.key_id.encode() + b"\n")
        return key

    def _remember(self, verifier: VerifierKey) -> None:
        path = self.folder / f"ledger-{verifier.key_id}.vkey"
        if not path.exists():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomically(path, verifier.encode().encode() + b"\n")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise key creation between processes that start at the same moment."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
