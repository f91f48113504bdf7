"""A person's credential: login, argon2id password hash, sealed signing key, TOTP secret.

The whole document is sealed under the account's own data key into the blob store; events
name only its ciphertext hash, so crypto-shredding the account erases every secret while the
ledger still verifies. Each change (password, second factor, new key pair) seals a new
document and records its hash: the record names which credential every session proved.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from domain.names import hidden_character
from ledger.blobs import BlobStore
from ledger.vault import Vault
from services.passwords import hash_password, verify_password
from services.personal_keys import (
    PersonalKeyError,
    SealedSigningKey,
    new_signing_key,
    reseal,
)

MIN_PASSWORD = 12
LOGIN_LENGTH = 64


class CredentialError(ValueError):
    """The stored credential does not open or does not parse."""


@dataclass(frozen=True)
class Credential:
    login: str
    password_hash: str
    signing_key: SealedSigningKey | None = None
    totp_secret: str | None = None

    @classmethod
    def new(cls, login: str, password: str) -> tuple[Credential, bytes]:
        """A fresh credential with its own key pair; returns it and the public key."""
        check_password(password)
        public_key, sealed = new_signing_key(password)
        return cls(login, hash_password(password), sealed), public_key

    def password_matches(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    def with_password(self, old: str, new: str) -> Credential:
        """Same key pair, resealed under the new password."""
        check_password(new)
        sealed = reseal(self.signing_key, old, new) if self.signing_key else None
        return replace(self, password_hash=hash_password(new), signing_key=sealed)

    def with_new_key(self, password: str) -> tuple[Credential, bytes]:
        """A lost password: a new password and a new key pair (the old one is retired)."""
        fresh, public_key = Credential.new(self.login, password)
        return replace(fresh, totp_secret=self.totp_secret), public_key

    def to_bytes(self) -> bytes:
        document: dict[str, Any] = {"login": self.login, "password": self.password_hash}
        if self.signing_key is not None:
            document["signing_key"] = base64.b64encode(self.signing_key.to_bytes()).decode()
        if self.totp_secret is not None:
            document["totp"] = self.totp_secret
        return json.dumps(document).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Credential:
        try:
            document = json.loads(data)
            sealed = document.get("signing_key")
            return cls(
                login=str(document["login"]),
                password_hash=str(document["password"]),
                signing_key=(
                    SealedSigningKey.from_bytes(base64.b64decode(sealed, validate=True))
                    if sealed
                    else None
                ),
                totp_secret=document.get("totp"),
            )
        except (ValueError, KeyError, TypeError, AttributeError, PersonalKeyError) as error:
            raise CredentialError(f"the stored credential is unusable: {error}") from None


def check_login(login: str) -> None:
    """A login is 1 to 64 characters with no space, control or hidden character: it is typed
    at every sign-in, and a service's key file holds it beside the secret."""
    if not 1 <= len(login) <= LOGIN_LENGTH or any(char.isspace() for char in login):
        raise CredentialError(f"a login has 1 to {LOGIN_LENGTH} characters and no spaces")
    hidden = hidden_character(login)
    if hidden:
        raise CredentialError(f"the login contains {hidden}, a character that cannot be seen")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise CredentialError(f"a password has at least {MIN_PASSWORD} characters")


def open_credential(vault: Vault, blobs: BlobStore, account_id: UUID, digest: str) -> Credential:
    return Credential.from_bytes(vault.open_from(blobs, account_id, digest))


def seal_credential(
    vault: Vault, blobs: BlobStore, account_id: UUID, credential: Credential
) -> str:
    if not vault.has_key(account_id):
        vault.create_key(account_id)
    return vault.seal_to(blobs, account_id, credential.to_bytes())
