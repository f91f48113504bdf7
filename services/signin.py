"""Signing in, being signed in, and signing a decision: one service for the CLI and the web.

Who acts is never a flag: it is the account whose password (and, for the privileged roles,
TOTP code) was proved at sign-in, held as a short-lived session (:mod:`services.sessions`). Every
attempt, good or bad, goes to the access log; five failures lock the login for fifteen
minutes (:mod:`audit.access_log`). A decision with legal meaning asks for the password (and
code) again and is signed with the person's own key (:mod:`domain.signatures`).

Service identities (dispatcher, workers) never sign in: their credential is a key file, and
their role may do system work only.
"""

from __future__ import annotations

import getpass
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from audit.access_log import AccessLog, CodeReused, LoginLocked
from domain.accounts import Account, Actor, Role
from domain.errors import AccountNotFound
from domain.registration import Registration
from domain.signatures import Manifest, Signer
from ledger.blobs import BlobStore
from ledger.vault import Vault
from services import totp
from services.credentials import Credential, CredentialError, open_credential
from services.passwords import hash_password, verify_password
from services.personal_keys import sign
from services.sessions import SessionError, SessionRecord, SessionStore

# Checked against when the login is unknown, so that a wrong login costs as long as a wrong
# password and the two cannot be told apart.
_DECOY = hash_password(secrets.token_urlsafe(16))


class SignInRefused(Exception):
    """Sign-in or signing refused; the message says why without helping a guesser."""


def cli_origin() -> str:
    """Where a CLI action comes from: the OS user and host."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


@dataclass
class Authenticator:
    app: Registration
    vault: Vault
    blobs: BlobStore
    access: AccessLog
    sessions: SessionStore
    session_minutes: int
    # Each code is good once (RFC 6238 §5.2). Under a frozen rehearsal clock (HUIYAN_CLOCK,
    # refused in production) time does not move, every code is the same, and this is off.
    single_use_codes: bool = True

    # --- signing in ---------------------------------------------------------------------------

    def prove(
        self, login: str, password: str, code: str | None, *, origin: str, now: datetime
    ) -> Account:
        """Checks login, password and (where enrolled) the TOTP code; the attempt is logged
        whatever its outcome, and five failures lock the login."""
        login_key = self.vault.keyed_hash(login)
        locked = self.access.locked_until(login_key, now)
        if locked is not None:
            self.access.sign_in_failed(login_key, origin=origin, at=now)
            raise SignInRefused(f"this login is locked until {locked.isoformat()}")
        account, credential = self._credential(login_key)
        matches = (
            credential.password_matches(password)
            if credential is not None
            else verify_password(_DECOY, password)
        )
        if not matches or account is None or credential is None:
            self._failed(login_key, origin, now, "wrong login or password")
        if account.role is Role.SERVICE:
            self._failed(login_key, origin, now, "a service identity signs in with its key file")
        if account.second_factor:
            self._check_code(account, credential, code, login_key, origin, now)
        try:
            self.access.sign_in_succeeded(
                login_key, str(account.id), origin=origin, at=now, role=account.role.value
            )
        except LoginLocked as locked_now:
            raise SignInRefused(
                f"this login is locked until {locked_now.until.isoformat()}"
            ) from None
        return account

    def session_record(self, account: Account, now: datetime) -> SessionRecord:
        return SessionRecord(
            account_id=account.id,
            credential=account.credential,
            began=now,
            ends=now + timedelta(minutes=self.session_minutes),
            second_factor=account.second_factor,
        )

    def sign_in(
        self,
        name: str,
        login: str,
        password: str,
        code: str | None,
        *,
        origin: str,
        now: datetime,
    ) -> Account:
        """The CLI's sign-in: proves the person and begins the named session."""
        account = self.prove(login, password, code, origin=origin, now=now)
        self.sessions.begin(name, self.session_record(account, now))
        return account

    def open_session(
        self, login: str, password: str, code: str | None, *, origin: str, now: datetime
    ) -> tuple[Account, str]:
        """The web's sign-in: proves the person and opens a session; its token."""
        account = self.prove(login, password, code, origin=origin, now=now)
        return account, self.sessions.open(self.session_record(account, now))

    def signed_in(self, name: str, now: datetime) -> Account:
        """The account of the CLI's named session, as long as its credential is unchanged."""
        return self._holder(self.sessions.current(name, now), lambda: self.sessions.end(name))

    def account_of_token(self, token: str, now: datetime) -> Account:
        """The account a web session's token stands for, on the same terms."""
        return self._holder(self.sessions.record_of(token, now), lambda: self.sessions.close(token))

    def _holder(self, record: SessionRecord, end: Callable[[], object]) -> Account:
        """A changed password or a new second factor ends every older session."""
        account = self.app.account(record.account_id)
        if account.credential != record.credential:
            end()
            raise SessionError("your credential changed since you signed in; sign in again")
        return account

    def acting(self, name: str, now: datetime) -> Actor:
        """The person acting now. A privileged role without a second factor may only enrol."""
        account = self.signed_in(name, now)
        if account.needs_second_factor and not account.second_factor:
            raise SessionError(
                f"the role {account.role.value} needs a second factor: enrol one with "
                "`huiyan account enrol-totp`, then sign in again"
            )
        return account.actor

    # --- signing a decision -------------------------------------------------------------------

    def signer(
        self, account: Account, password: str, code: str | None, *, origin: str, now: datetime
    ) -> Signer:
        """The person's signer for one decision, once password (and code) are proved again."""
        login_key = account.login_key
        credential = open_credential(self.vault, self.blobs, account.id, account.credential)
        if not credential.password_matches(password):
            self._failed(login_key, origin, now, "wrong password: nothing was signed")
        if account.second_factor:
            self._check_code(account, credential, code, login_key, origin, now)
        sealed = credential.signing_key
        if sealed is None:
            raise SignInRefused("this account holds no signing key")

        def signer(manifest: Manifest) -> str:
            return sign(sealed, password, manifest.payload()).hex()

        return signer

    # --- helpers ------------------------------------------------------------------------------

    def _credential(self, login_key: str) -> tuple[Account | None, Credential | None]:
        try:
            account = self.app.account_by_login(login_key)
        except AccountNotFound:
            return None, None
        try:
            return account, open_credential(self.vault, self.blobs, account.id, account.credential)
        except CredentialError:
            return account, None

    def _check_code(
        self,
        account: Account,
        credential: Credential,
        code: str | None,
        login_key: str,
        origin: str,
        now: datetime,
    ) -> None:
        if not code:
            raise SignInRefused(f"the role {account.role.value} gives a TOTP code (--totp)")
        last = self.access.last_code_step(login_key) if self.single_use_codes else None
        try:
            step = totp.check_code(credential.totp_secret or "", code, at=now, last_step=last)
        except totp.TotpRefused as refused:
            why = "TOTP code used already" if refused.reason == totp.REUSED else "wrong TOTP code"
            self._failed(login_key, origin, now, why)
        if self.single_use_codes:
            try:
                self.access.code_used(
                    login_key, str(account.id), role=account.role.value, step=step,
                    origin=origin, at=now,
                )  # fmt: skip
            except CodeReused as reused:
                raise SignInRefused(str(reused)) from None

    def _failed(self, login_key: str, origin: str, now: datetime, why: str) -> None:
        until = self.access.sign_in_failed(login_key, origin=origin, at=now)
        if until is not None:
            why += f"; the login is now locked until {until.isoformat()}"
        raise SignInRefused(why)


def service_actor(app: Registration, vault: Vault, blobs: BlobStore, key_file: Path) -> Actor:
    """The service identity whose key file this is: the file holds its login and secret."""
    try:
        login, secret = key_file.read_text().split()
    except (OSError, ValueError):
        raise SignInRefused(f"{key_file} is not a service identity's key file") from None
    try:
        account = app.account_by_login(vault.keyed_hash(login))
        credential = open_credential(vault, blobs, account.id, account.credential)
    except (AccountNotFound, CredentialError):
        raise SignInRefused(f"no service identity {login!r}") from None
    if account.role is not Role.SERVICE or not verify_password(credential.password_hash, secret):
        raise SignInRefused(f"{key_file} does not prove the service identity {login!r}")
    return account.actor


def new_service_secret() -> str:
    return secrets.token_urlsafe(32)
