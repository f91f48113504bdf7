"""Sessions: what a person holds between signing in and signing out.

A session is a random token. The person's copy is a 0600 file under ``$HUIYAN_HOME/sessions``
(one per session name, ``HUIYAN_SESSION`` or the OS user); the server's record lives beside
the other secrets under the keys folder, filed by the token's SHA-256, so a copy of the keys
folder's listing does not give anyone a token. The web application keeps the token in its
signed cookie and checks it against the same records: one service for both.

A record names the account, when the session began and ends, and the credential the person
proved: a changed password or a newly enrolled second factor ends every older session.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from ledger.files import write_atomically

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)


class SessionError(Exception):
    """No usable session: the message says what to do."""


@dataclass(frozen=True)
class SessionRecord:
    account_id: UUID
    credential: str  # the sealed credential's hash at sign-in
    began: datetime
    ends: datetime
    second_factor: bool

    def to_json(self) -> str:
        return json.dumps(
            {
                "account_id": str(self.account_id),
                "credential": self.credential,
                "began": self.began.isoformat(),
                "ends": self.ends.isoformat(),
                "second_factor": self.second_factor,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SessionRecord:
        try:
            data = json.loads(text)
            return cls(
                account_id=UUID(data["account_id"]),
                credential=str(data["credential"]),
                began=datetime.fromisoformat(data["began"]),
                ends=datetime.fromisoformat(data["ends"]),
                second_factor=data["second_factor"] is True,
            )
        except (ValueError, KeyError, TypeError):
            raise SessionError("the session record is damaged; sign in again") from None


def session_name(environ: dict[str, str] | os._Environ[str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = env.get("HUIYAN_SESSION") or getpass.getuser()
    if not _NAME.fullmatch(name):
        raise SessionError(
            f"HUIYAN_SESSION must be letters, digits, '.', '_' or '-' (got {name!r})"
        )
    return name


class SessionStore:
    def __init__(self, home: Path, keys_dir: Path) -> None:
        self.client_dir = Path(home) / "sessions"
        self.server_dir = Path(keys_dir) / "sessions"

    # --- by token: the web application keeps the token in its signed cookie ------------------

    def open(self, record: SessionRecord) -> str:
        """Files the server's record; the token that names it, for the person to hold."""
        token = secrets.token_urlsafe(32)
        _write_private(self.server_dir / _digest(token), record.to_json())
        return token

    def record_of(self, token: str, now: datetime) -> SessionRecord:
        try:
            record = SessionRecord.from_json((self.server_dir / _digest(token)).read_text())
        except FileNotFoundError:
            raise SessionError("the session has ended; sign in again") from None
        if not record.began <= now < record.ends:
            raise SessionError(f"the session ended at {record.ends.isoformat()}; sign in again")
        return record

    def close(self, token: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.server_dir / _digest(token)).unlink()

    # --- by name: the CLI keeps the token in a 0600 file under $HUIYAN_HOME/sessions ----------

    def begin(self, name: str, record: SessionRecord) -> None:
        """Opens a session and hands the person their token; a session already held under
        this name ends first."""
        self.end(name)
        _write_private(self.client_dir / name, self.open(record))

    def current(self, name: str, now: datetime) -> SessionRecord:
        try:
            token = (self.client_dir / name).read_text().strip()
        except FileNotFoundError:
            raise SessionError("not signed in: run `huiyan login`") from None
        try:
            return self.record_of(token, now)
        except SessionError as error:
            raise SessionError(f"{error}: run `huiyan login`") from None

    def end(self, name: str) -> bool:
        token_path = self.client_dir / name
        try:
            token = token_path.read_text().strip()
        except FileNotFoundError:
            return False
        self.close(token)
        token_path.unlink()
        return True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_private(path: Path, text: str) -> None:
    """0600 in a 0700 folder, written whole then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, text.encode())
