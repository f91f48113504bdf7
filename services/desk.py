"""The desk every face opens once per command or request: settings, the registration
application, the vault, the blob store, the time, and who is acting.

The CLI and the web application act through the same desk, so an action is checked, signed and
logged the same way whichever face asked for it; only ``origin`` (where the action came from)
and the way credentials are asked for differ.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from audit.access_log import AccessLog
from domain.accounts import Account, Actor
from domain.contest import Contest
from domain.errors import DomainError
from domain.registration import Registration
from domain.signatures import Manifest, Signer
from domain.time import SHANGHAI
from ledger.blobs import BlobStore
from ledger.settings import Settings
from ledger.vault import Vault
from services import intake
from services.errors import ServiceRefused
from services.sessions import SessionStore, session_name
from services.signin import Authenticator, cli_origin

# Asked only once a decision has passed every rule, just before it is signed: the password
# again and the TOTP code (None when the account has no second factor or none was given).
Credentials = Callable[[Account], tuple[str, str | None]]


@dataclass
class Desk:
    """What every command or request needs, opened once."""

    settings: Settings
    app: Registration
    vault: Vault
    blobs: BlobStore
    now: datetime
    origin: str = field(default_factory=cli_origin)
    # The access log, when the face keeps one open (the web application, per process).
    access: AccessLog | None = None

    def __post_init__(self) -> None:
        # Screening reads each blacklist by hash from the blob store (docs/contest.md).
        self.app.list_reader = intake.blacklist_reader(self.blobs)

    @classmethod
    def open(cls, settings: Settings | None = None, *, origin: str | None = None) -> Desk:
        from ledger.application import open_application

        settings = settings or Settings.from_env()
        return cls(
            settings=settings,
            app=open_application(Registration, settings),
            vault=Vault(settings.keys_dir),
            blobs=BlobStore(settings.blobs_dir),
            now=settings.now().astimezone(SHANGHAI),
            origin=origin or cli_origin(),
        )

    @functools.cached_property
    def auth(self) -> Authenticator:
        return Authenticator(
            app=self.app,
            vault=self.vault,
            blobs=self.blobs,
            access=self.access or AccessLog.open(self.settings),
            sessions=SessionStore(self.settings.home, self.settings.keys_dir),
            session_minutes=self.settings.session_minutes,
            single_use_codes=self.settings.clock is None,
        )

    def acting(self) -> Actor:
        """The person signed in on this machine (the CLI's session file)."""
        return self.auth.acting(session_name(), self.now)

    def signer(self, actor: Actor, ask: Credentials) -> Signer:
        """The acting person's signer. The credentials are asked only when the first
        decision has passed every rule, just before it is signed (a refused decision never
        asks and never counts as a failed attempt), and proved once for the decisions of
        one command."""
        proved: list[Signer] = []

        def sign(manifest: Manifest) -> str:
            if not proved:
                account = self.app.account(actor.account_id)
                password, code = ask(account)
                proved.append(
                    self.auth.signer(account, password, code, origin=self.origin, now=self.now)
                )
            return proved[0](manifest)

        return sign

    def record_access(self, actor: Actor, action: str, subject: object, outcome: str) -> None:
        self.auth.access.record(
            who=str(actor.account_id),
            role=actor.role.value,
            action=action,
            subject=str(subject),
            outcome=outcome,
            origin=self.origin,
            at=self.now,
        )

    def require_read(self, actor: Actor, team_id: UUID, action: str, what: str) -> None:
        """A read of a team's personal data, private results or report: allowed or not,
        the attempt is in the access log (PIPL art. 51)."""
        try:
            actor.require_reader_of(team_id, what)
        except DomainError:
            self.record_access(actor, action, team_id, "refused")
            raise

    def contest(self, slug: str | None) -> Contest:
        """The named contest, or the only one there is."""
        if slug:
            return self.app.contest_by_slug(slug)
        contests = self.app.contests()
        if len(contests) != 1:
            raise ServiceRefused(f"there are {len(contests)} contests; name one with --contest")
        return contests[0]
