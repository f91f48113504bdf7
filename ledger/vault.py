"""Keys for personal data: one AES-256-GCM data key per subject, and the secrets of the keyed
hashes of low-entropy identifiers.

Keys are files under ``<keys_dir>`` (mode 0600), outside the event tables, so that destroying
a subject's key crypto-shreds everything sealed with it while every hash in the ledger still
verifies. A data key is stored wrapped by the master key (ledger/kms.py), so key files copied
without it open nothing; a key file from before wrapping (32 raw bytes) is still read.

Two keyed hashes, two secrets. Logins (account ids derive from their hash) are hashed under
the instance's login secret, which lives as long as the accounts. Identity numbers, e-mail
addresses of invitations and the people an expert declares are hashed under a secret of
their contest (``identity/<contest>.key``), which is shredded once the contest's last
registration check is over: from then on nobody, the organiser included, can test a guessed
ID number against the ledger (an HMAC of an 18-digit number is brute-forced in hours by
whoever holds the secret). An instance from before the split kept one secret for both
(``identity-hmac.key``); it still serves both there, and is refused for shredding, since
destroying it would lock every account out.

Shredding leaves a tombstone (``<name>.shredded``) that names the SHA-256 of the key file it
destroyed, so a later read says "shredded" rather than "missing", a shredded key is never made
again, and shredding again answers the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.blobs import BlobStore
from ledger.kms import MASTER_KEY_FILE, KeyWrapError, KeyWrapper, LocalMasterKey, is_wrapped
from ledger.kms import write_secret as _write_secret

_NONCE = 12
_KEY_BYTES = 32
LEGACY_SECRET = "identity-hmac.key"  # before the split: logins and identities alike
LOGIN_SECRET = "login-hmac.key"
TOMBSTONE = ".shredded"


class VaultError(LookupError):
    """A key is missing or shredded, its file does not unwrap, or sealed bytes do not open."""


class Vault:
    def __init__(self, keys_dir: Path, master: KeyWrapper | None = None) -> None:
        self.keys_dir = Path(keys_dir)
        self.master = master or LocalMasterKey(self.keys_dir / MASTER_KEY_FILE)

    # --- per-subject data keys -------------------------------------------------------------

    def create_key(self, subject: UUID) -> None:
        path = self._key_path(subject)
        if _tombstone(path).exists():
            raise VaultError(f"the data key of {subject} was shredded; it is never made again")
        key = AESGCM.generate_key(bit_length=256)
        _write_secret(path, self._wrap(key, _subject_context(subject)))

    def has_key(self, subject: UUID) -> bool:
        return self._key_path(subject).exists()

    def is_shredded(self, subject: UUID) -> bool:
        return _tombstone(self._key_path(subject)).exists()

    def key_sha256(self, subject: UUID) -> str | None:
        """SHA-256 of the subject's key file as stored (wrapped), or, once shredded, the one
        its tombstone names: what the ledger records of a destroyed key. None: no key ever."""
        return _file_sha256(self._key_path(subject))

    def destroy_key(self, subject: UUID) -> None:
        """Removes a key no ledger event names (a registration that was refused)."""
        _overwrite_and_unlink(self._key_path(subject))

    def shred_key(self, subject: UUID) -> str | None:
        """Crypto-shredding: the sealed data stays, unreadable for ever. Returns the key file's
        SHA-256 (:meth:`key_sha256`); doing it again destroys nothing more and answers the
        same (a key brought back from a backup is destroyed again)."""
        return _shred(self._key_path(subject))

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
        """HMAC-SHA256 of a login under the instance's login secret (account ids derive from
        it, so this secret lives as long as the accounts)."""
        return _hmac(self._login_secret(), value)

    def identity_hash(self, contest_id: UUID, value: str) -> str:
        """HMAC-SHA256 of an identity number (or an invitation's e-mail address) under the
        contest's identity secret, for "one person in one team" and conflict checks. Refused
        once that secret is shredded."""
        return _hmac(self._identity_secret(contest_id), value)

    def identity_secret_sha256(self, contest_id: UUID) -> str | None:
        """SHA-256 of the contest's identity secret file (or its tombstone's record); None
        when no identity of the contest was ever hashed."""
        return _file_sha256(self._identity_path(contest_id))

    def identity_secret_shredded(self, contest_id: UUID) -> bool:
        return _tombstone(self._identity_path(contest_id)).exists()

    def require_identity_secret_shreddable(self, contest_id: UUID) -> None:
        """Refuses where the identity secret is the instance's one shared secret (an instance
        from before the split): destroying it would lock every account out."""
        if not self.identity_secret_shredded(contest_id) and self._legacy().exists():
            raise VaultError(
                f"this instance hashes logins and identities under one secret "
                f"(keys/{LEGACY_SECRET}, from before the split); it cannot be shredded without "
                "locking every account out (docs/audit.md)"
            )

    def shred_identity_secret(self, contest_id: UUID) -> str | None:
        """Destroys the contest's identity secret (:meth:`identity_secret_sha256` returned);
        idempotent like :meth:`shred_key`."""
        self.require_identity_secret_shreddable(contest_id)
        return _shred(self._identity_path(contest_id))

    # --- files ---------------------------------------------------------------------------------

    def _login_secret(self) -> bytes:
        legacy = self._legacy()
        if legacy.exists():
            return legacy.read_bytes()
        path = self.keys_dir / LOGIN_SECRET
        if not path.exists():
            with contextlib.suppress(FileExistsError):  # another process made it first
                _write_secret(path, secrets.token_bytes(_KEY_BYTES))
        return path.read_bytes()

    def _identity_secret(self, contest_id: UUID) -> bytes:
        path = self._identity_path(contest_id)
        if _tombstone(path).exists():
            raise VaultError(
                f"the identity secret of contest {contest_id} was shredded: identity numbers "
                "can no longer be hashed (its registration is over)"
            )
        if self._legacy().exists():
            return self._legacy().read_bytes()
        context = b"identity:" + UUID(str(contest_id)).bytes
        if not path.exists():
            with contextlib.suppress(FileExistsError):
                _write_secret(path, self._wrap(secrets.token_bytes(_KEY_BYTES), context))
        return self._read_key(path, context)

    def _cipher(self, subject: UUID) -> AESGCM:
        path = self._key_path(subject)
        if _tombstone(path).exists():
            raise VaultError(
                f"the data key of {subject} was shredded: what was sealed under it can no "
                "longer be opened"
            )
        if not path.exists():
            raise VaultError(f"no data key for {subject} (never made, or shredded)")
        return AESGCM(self._read_key(path, _subject_context(subject)))

    def _read_key(self, path: Path, context: bytes) -> bytes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise VaultError(f"the key file {path.name} is missing (shredded?)") from None
        if is_wrapped(data):
            try:
                return self.master.unwrap(data, context=context)
            except KeyWrapError as error:
                raise VaultError(f"the key file {path.name} cannot be used: {error}") from None
        if len(data) == _KEY_BYTES:
            return data  # written before keys were wrapped: still read (docs/audit.md)
        raise VaultError(
            f"the key file {path.name} is malformed: neither a wrapped key nor a 256-bit key"
        )

    def _wrap(self, key: bytes, context: bytes) -> bytes:
        try:
            return self.master.wrap(key, context=context)
        except KeyWrapError as error:
            raise VaultError(f"a new key cannot be wrapped: {error}") from None

    def _key_path(self, subject: UUID) -> Path:
        return self.keys_dir / "subjects" / f"{UUID(str(subject))}.key"

    def _identity_path(self, contest_id: UUID) -> Path:
        return self.keys_dir / "identity" / f"{UUID(str(contest_id))}.key"

    def _legacy(self) -> Path:
        return self.keys_dir / LEGACY_SECRET


def _subject_context(subject: UUID) -> bytes:
    return b"subject:" + UUID(str(subject)).bytes


def _hmac(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def _tombstone(path: Path) -> Path:
    return path.with_name(path.name + TOMBSTONE)


def _file_sha256(path: Path) -> str | None:
    tomb = _tombstone(path)
    if tomb.exists():
        try:
            return json.loads(tomb.read_text())["sha256"]
        except (ValueError, KeyError, TypeError):
            raise VaultError(f"the tombstone {tomb.name} is malformed") from None
    if path.exists():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return None


def _shred(path: Path) -> str | None:
    """The tombstone first, then the key: a crash between the two leaves a key that reads as
    shredded, and the next shred destroys it."""
    digest = _file_sha256(path)
    tomb = _tombstone(path)
    if not tomb.exists():
        with contextlib.suppress(FileExistsError):
            _write_secret(tomb, json.dumps({"sha256": digest}).encode())
    _overwrite_and_unlink(path)
    return digest


def _overwrite_and_unlink(path: Path) -> None:
    if path.exists():
        with open(path, "r+b") as stream:
            stream.write(secrets.token_bytes(path.stat().st_size))
            stream.flush()
            os.fsync(stream.fileno())
        path.unlink()
