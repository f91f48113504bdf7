"""Each person's own Ed25519 signing key, sealed under their password (21 CFR Part 11 §11.200).

A decision with legal meaning (approval, expert score, appeal, ruling) carries its author's own
signature, made when they re-enter their password. So the private key is stored only sealed:
AES-256-GCM under a key that argon2id derives from the password. It is opened in memory for
one signing and dropped; Python cannot wipe the bytes, so no reference outlives the call.

The sealed record comes back from storage that an attacker with SQL or disk access may edit,
so ``from_bytes`` accepts only the exact shape written here, and the cost parameters are
bounded both ways: never below the OWASP minimum (a record sealed cheaply, by mistake or by
someone who knew the password, is refused rather than trusted) and never so high that opening
one record exhausts a worker's memory.
The GCM associated data binds the format version and the public key, so a sealed private key
cannot be passed off under another person's public key.

AES-GCM cannot tell a wrong password from an altered record (both fail the tag), and no check
without the password could: anything an attacker can recompute proves nothing. Both are
refused as ``WrongPassword``, whose message says so.

A password change re-seals the same key pair (``reseal``). A lost password means a new key
pair; signatures made before still verify with the old public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
# argon2id at the OWASP minimum (m = 19 MiB, t = 2, p = 1), as services/passwords.py.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
# Upper bounds on what a stored record may ask for: one signing must not exhaust a worker.
MAX_TIME_COST = 10
MAX_MEMORY_COST_KIB = 256 * 1024
MAX_PARALLELISM = 8

SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32  # Ed25519 public and private keys, and the AES-256 key
_TAG_BYTES = 16
_AD_PREFIX = b"huiyan sealed signing key v"

_INT_FIELDS = {
    "time_cost": (TIME_COST, MAX_TIME_COST),
    "memory_cost": (MEMORY_COST_KIB, MAX_MEMORY_COST_KIB),
    "parallelism": (PARALLELISM, MAX_PARALLELISM),
}
_BYTES_FIELDS = {
    "public_key": KEY_BYTES,
    "salt": SALT_BYTES,
    "nonce": NONCE_BYTES,
    "ciphertext": KEY_BYTES + _TAG_BYTES,
}
_FIELDS = {"version", *_INT_FIELDS, *_BYTES_FIELDS}


class PersonalKeyError(ValueError):
    """A sealed key or public key that cannot be used; the message names what is wrong."""


class WrongPassword(PersonalKeyError):
    def __init__(self) -> None:
        super().__init__(
            "the password does not open this signing key (or the sealed key was altered)"
        )


@dataclass(frozen=True)
class SealedSigningKey:
    """A private key sealed under a password, with everything needed to open it but that."""

    version: int
    public_key: bytes
    salt: bytes
    time_cost: int
    memory_cost: int
    parallelism: int
    nonce: bytes
    ciphertext: bytes

    def __post_init__(self) -> None:
        # One place for the shape, whether the record was just made or read back.
        if type(self.version) is not int or self.version != VERSION:
            raise PersonalKeyError(f"sealed signing key: version must be {VERSION}")
        for name, (low, high) in _INT_FIELDS.items():
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                raise PersonalKeyError(
                    f"sealed signing key: {name} must be an integer from {low} to {high}"
                )
        for name, size in _BYTES_FIELDS.items():
            value = getattr(self, name)
            if type(value) is not bytes or len(value) != size:
                raise PersonalKeyError(f"sealed signing key: {name} must be {size} bytes")

    def to_bytes(self) -> bytes:
        document: dict[str, Any] = {"version": self.version}
        for name in _INT_FIELDS:
            document[name] = getattr(self, name)
        for name in _BYTES_FIELDS:
            document[name] = base64.b64encode(getattr(self, name)).decode("ascii")
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedSigningKey:
        try:
            document = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as error:
            raise PersonalKeyError(f"sealed signing key: not a JSON document ({error})") from None
        if not isinstance(document, dict):
            raise PersonalKeyError("sealed signing key: not a JSON object")
        missing, unknown = _FIELDS - document.keys(), document.keys() - _FIELDS
        if missing:
            raise PersonalKeyError(f"sealed signing key: missing {', '.join(sorted(missing))}")
        if unknown:
            raise PersonalKeyError(f"sealed signing key: unknown {', '.join(sorted(unknown))}")
        decoded = {name: _base64_field(name, document[name]) for name in _BYTES_FIELDS}
        ints = {name: document[name] for name in ("version", *_INT_FIELDS)}
        return cls(**ints, **decoded)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A repeated key would let two readers see two different records in one document."""
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("a key appears twice")
    return document


def _base64_field(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise PersonalKeyError(f"sealed signing key: {name} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise PersonalKeyError(f"sealed signing key: {name} is not valid base64") from None


def new_signing_key(password: str) -> tuple[bytes, SealedSigningKey]:
    """A fresh key pair: the raw 32-byte public key, and the private key sealed under password."""
    private = Ed25519PrivateKey.generate()
    public_key = private.public_key().public_bytes_raw()
    return public_key, _seal(private.private_bytes_raw(), public_key, password)


def sign(sealed: SealedSigningKey, password: str, payload: bytes) -> bytes:
    """The Ed25519 signature of payload; the private key exists only during this call."""
    return Ed25519PrivateKey.from_private_bytes(_open(sealed, password)).sign(payload)


def reseal(sealed: SealedSigningKey, old_password: str, new_password: str) -> SealedSigningKey:
    """The same key pair under a new password, with a new salt and nonce and today's costs."""
    return _seal(_open(sealed, old_password), sealed.public_key, new_password)


def key_id(public_key: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    _check_public_key(public_key)
    return hashlib.sha256(public_key).hexdigest()[:16]


def verify(public_key: bytes, signature: bytes, payload: bytes) -> bool:
    """Whether signature is public_key's signature of payload; needs nothing secret."""
    _check_public_key(public_key)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def _check_public_key(public_key: bytes) -> None:
    if type(public_key) is not bytes or len(public_key) != KEY_BYTES:
        raise PersonalKeyError(f"a public key must be {KEY_BYTES} raw bytes")


def _derive(
    password: str, salt: bytes, time_cost: int, memory_cost: int, parallelism: int
) -> bytes:
    return hash_secret_raw(
        secret=password.encode("utf-8"),
        salt=salt,
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def _associated_data(version: int, public_key: bytes) -> bytes:
    return _AD_PREFIX + str(version).encode("ascii") + b"\x00" + public_key


def _seal(private_raw: bytes, public_key: bytes, password: str) -> SealedSigningKey:
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    key = _derive(password, salt, TIME_COST, MEMORY_COST_KIB, PARALLELISM)
    ciphertext = AESGCM(key).encrypt(nonce, private_raw, _associated_data(VERSION, public_key))
    return SealedSigningKey(
        version=VERSION,
        public_key=public_key,
        salt=salt,
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        nonce=nonce,
        ciphertext=ciphertext,
    )


def _open(sealed: SealedSigningKey, password: str) -> bytes:
    key = _derive(password, sealed.salt, sealed.time_cost, sealed.memory_cost, sealed.parallelism)
    try:
        return AESGCM(key).decrypt(
            sealed.nonce, sealed.ciphertext, _associated_data(sealed.version, sealed.public_key)
        )
    except InvalidTag:
        raise WrongPassword() from None
