"""Enrolling a TOTP second factor, for the CLI and the web alike.

The secret is shown once (a URI and its QR code) and kept, sealed under the account's key,
until the person proves a code from their app; only then is it sealed into the credential.
The enrolment changes the credential, so every older session ends (services/signin.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from uuid import UUID

from domain.accounts import Account
from ledger.files import write_atomically
from services import totp
from services.credentials import open_credential, seal_credential
from services.desk import Desk
from services.signin import SignInRefused


def pending_secret(desk: Desk, account_id: UUID, *, fresh: bool = False) -> str:
    """The secret shown but not yet confirmed; a new one when there is none or ``fresh``."""
    path = _pending_path(desk, account_id)
    if not fresh:
        try:
            return desk.vault.open(account_id, path.read_bytes()).decode()
        except FileNotFoundError:
            pass
    secret = totp.new_secret()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, desk.vault.seal(account_id, secret.encode()))
    return secret


def enrol(desk: Desk, person: Account, password: str, code: str) -> None:
    """Proves the password and a code for the pending secret, then enrols it."""
    credential = open_credential(desk.vault, desk.blobs, person.id, person.credential)
    if not credential.password_matches(password):
        raise SignInRefused("wrong password: nothing was enrolled")
    secret = pending_secret(desk, person.id)
    try:
        totp.check_code(secret, code, at=desk.now, last_step=None)
    except totp.TotpRefused as refused:
        raise SignInRefused(f"the code does not match ({refused}); nothing was enrolled") from None
    enrolled = dataclasses.replace(credential, totp_secret=secret)
    desk.app.enrol_second_factor(
        credential=seal_credential(desk.vault, desk.blobs, person.id, enrolled),
        actor=person.actor,
        now=desk.now,
    )
    _pending_path(desk, person.id).unlink(missing_ok=True)


def enrolment_uri(desk: Desk, person: Account) -> str:
    """The otpauth:// URI of the pending secret, labelled with the person's login."""
    credential = open_credential(desk.vault, desk.blobs, person.id, person.credential)
    return totp.enrolment_uri(pending_secret(desk, person.id), account_label=credential.login)


def _pending_path(desk: Desk, account_id: UUID) -> Path:
    return desk.settings.keys_dir / "totp-pending" / str(account_id)
