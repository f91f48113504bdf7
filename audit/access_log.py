"""The access log: who signed in, read personal data or acted as an administrator, and how.

MLPS level 3 (§8.1.4.3 a–d) and PIPL art. 51 ask that every sign-in (success and failure),
every read of personal data, of a team's private results or of a technical report, and every
administrative action be recorded with who, what, when, from where and the outcome, and that
the record can be neither deleted nor switched off.

Reads are frequent, so they go to a stream of their own: the same ledger machinery (the
chaining, signing, Merkle-linking recorder of ``ledger.persistence``) on its own events table
(``Settings.access_events_table``), its own checkpoints and Merkle cache (named after that
table), and its own signing key under ``HUIYAN_HOME/access/keys`` with its own checkpoint
origin (``<origin>/access``). The contest's history is not flooded, and every access entry
is verified like a contest event (``huiyan ledger verify --stream access``).

Why its own key: a rotation of the contest's key destroys the old private key and records the
handover in the contest's stream only; a stream signed by the same key would be refused every
write from then on. And a checkpoint of one stream must never pass for one of the other, which
a shared origin would allow.

There is no delete method and no setting that turns recording off. On PostgreSQL a trigger,
created with the table, refuses UPDATE, DELETE and TRUNCATE on the access events table (a
superuser can still drop it; verify then finds the gap or the edit).

Entries carry ids, never content: an account id (or ``anonymous``, or a service identity), a
role, a dotted action (``signin``, ``read.team_members``, ``admin.<command>``), a subject id,
an outcome, an origin (``web:203.0.113.5``, ``cli:alice@host``) and the time, which always
comes in as an argument. Logins are passed as a keyed hash (``login_key``), never in clear.

Sign-in lock-out lives here too: :data:`FAILURES_BEFORE_LOCK` failed sign-ins for one login
within :data:`WINDOW` (since its last success) lock it for :data:`LOCK`. Its state is a small
aggregate per login (:class:`SignInGuard`, id derived from the login key) whose events are
themselves access entries, so the lock-out is replayable, cheap to load and in the record.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid5

import sqlalchemy as sa
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from ledger.application import open_application
from ledger.settings import Settings

FAILURES_BEFORE_LOCK = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)

OUTCOMES = ("ok", "refused", "failed")
ANONYMOUS = "anonymous"
SYSTEM = "huiyan"  # the service identity that applies a lock-out
SIGNIN = "signin"
LOCKOUT = "signin.lockout"
SECOND_FACTOR = "signin.second_factor"
FIELDS = ("who", "role", "action", "subject", "outcome", "origin", "at")

GUARD_NAMESPACE = UUID("9d4f2c7e-5a1b-4e8c-8f3d-2b6a0c9e7d14")
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_-]+)*")
_TOKEN = re.compile(r"[^\s@]+")  # no blanks; no "@", so an e-mail login cannot slip in
_ORIGIN = re.compile(r"[a-z]+:\S+")
_PAGE = 500
_SAVE_TRIES = 5

G = TypeVar("G")


class AccessLogError(ValueError):
    """An entry that may not be recorded as given; the message names the field."""


class CodeReused(AccessLogError):
    """A TOTP code that was already used (RFC 6238 §5.2: each code is good once)."""

    def __init__(self) -> None:
        super().__init__("this TOTP code was used already: wait for the next one")


class LoginLocked(AccessLogError):
    """A sign-in succeeded while its login is locked: it is recorded as refused, not let in."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"the login is locked until {until.isoformat()}")


def access_settings(settings: Settings) -> Settings:
    """The settings of the access stream: its events table, its keys folder
    (``HUIYAN_HOME/access/keys``) and its checkpoint origin (``<origin>/access``). The CLI's
    ``--stream access`` uses the same function, so writer and verifier agree on the layout.
    Its key is its own even where the ledger's is provisioned (HUIYAN_LEDGER_KEY): a key
    of the contest's history never signs another stream."""
    return dataclasses.replace(
        settings,
        home=settings.home / "access",
        origin=f"{settings.origin}/access",
        events_table=settings.access_events_table,
        key_path=None,
    )


def check_entry(
    *, who: str, role: str, action: str, subject: str, outcome: str, origin: str, at: datetime
) -> None:
    """Refuse an entry that could not be read back or could carry a login or content."""
    if not (_TOKEN.fullmatch(who) and len(who) <= 100):
        raise AccessLogError(f"who must be an account id, {ANONYMOUS} or a service name")
    if not (_TOKEN.fullmatch(role) and len(role) <= 50):
        raise AccessLogError("role must be one word")
    if not (_ACTION.fullmatch(action) and len(action) <= 80):
        raise AccessLogError(f"action must be a dotted lower-case word, not {action!r}")
    if subject and not (_TOKEN.fullmatch(subject) and len(subject) <= 200):
        raise AccessLogError("subject must be an id (no blanks, no @)")
    if outcome not in OUTCOMES:
        raise AccessLogError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if not (_ORIGIN.fullmatch(origin) and len(origin) <= 300):
        raise AccessLogError("origin must be kind:where, e.g. web:203.0.113.5 or cli:user@host")
    if at.tzinfo is None or at.utcoffset() is None:
        raise AccessLogError("at must carry a UTC offset")


class AccessEntry(Aggregate):
    """One access fact, recorded once and never changed."""

    @event("Recorded")
    def __init__(
        self,
        who: str,
        role: str,
        action: str,
        subject: str,
        outcome: str,
        origin: str,
        at: datetime,
    ) -> None:
        self.who, self.role, self.action, self.subject = who, role, action, subject
        self.outcome, self.origin, self.at = outcome, origin, at


class SignInGuard(Aggregate):
    """The lock-out state of one login, and the last TOTP step it used (a code is good once,
    RFC 6238 §5.2); each of its changes is an access entry itself."""

    last_code_step: int | None = None

    @staticmethod
    def create_id(login_key: str) -> UUID:
        return uuid5(GUARD_NAMESPACE, login_key)

    @event("Opened")
    def __init__(self, login_key: str) -> None:
        self.login_key = login_key
        # Counted failures since the last success or lock-out, oldest first; only the latest
        # few are kept, which is all the rule ever reads.
        self.failures: list[datetime] = []
        self.locked_until: datetime | None = None

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and at < self.locked_until

    def fail(self, *, origin: str, at: datetime) -> None:
        """Count a failed sign-in; the one that makes FAILURES_BEFORE_LOCK within WINDOW
        locks the login for LOCK. The rule is checked here, with the time given, never in
        an event body (which replays after the window has passed)."""
        recent = sum(1 for failed in self.failures if at - failed < WINDOW)
        self._failed(
            who=ANONYMOUS,
            role=ANONYMOUS,
            action=SIGNIN,
            subject=self.login_key,
            outcome="failed",
            origin=origin,
            at=at,
        )
        if recent + 1 >= FAILURES_BEFORE_LOCK:
            self._locked_out(
                who=SYSTEM,
                role="system",
                action=LOCKOUT,
                subject=self.login_key,
                outcome="ok",
                origin=origin,
                at=at,
                until=at + LOCK,
            )

    def succeed(self, *, account_id: str, role: str, origin: str, at: datetime) -> None:
        self._reset(
            who=account_id,
            role=role,
            action=SIGNIN,
            subject=self.login_key,
            outcome="ok",
            origin=origin,
            at=at,
        )

    def code_used(self, *, account_id: str, role: str, step: int, origin: str, at: datetime
                  ) -> None:  # fmt: skip
        if self.last_code_step is not None and step <= self.last_code_step:
            raise CodeReused()
        self._code_used(
            who=account_id,
            role=role,
            action=SECOND_FACTOR,
            subject=self.login_key,
            outcome="ok",
            origin=origin,
            at=at,
            step=step,
        )

    @event("SecondFactorUsed")
    def _code_used(
        self,
        who: str,
        role: str,
        action: str,
        subject: str,
        outcome: str,
        origin: str,
        at: datetime,
        step: int,
    ) -> None:
        self.last_code_step = step

    @event("Failed")
    def _failed(
        self,
        who: str,
        role: str,
        action: str,
        subject: str,
        outcome: str,
        origin: str,
        at: datetime,
    ) -> None:
        self.failures = [*self.failures, at][-FAILURES_BEFORE_LOCK:]

    @event("LockedOut")
    def _locked_out(
        self,
        who: str,
        role: str,
        action: str,
        subject: str,
        outcome: str,
        origin: str,
        at: datetime,
        until: datetime,
    ) -> None:
        self.failures = []
        self.locked_until = until

    @event("Reset")
    def _reset(
        self,
        who: str,
        role: str,
        action: str,
        subject: str,
        outcome: str,
        origin: str,
        at: datetime,
    ) -> None:
        self.failures = []


ENTRY_TOPICS = tuple(
    get_topic(cls)
    for cls in (
        AccessEntry.Recorded,  # type: ignore[attr-defined]
        SignInGuard.Failed,  # type: ignore[attr-defined]
        SignInGuard.LockedOut,  # type: ignore[attr-defined]
        SignInGuard.Reset,  # type: ignore[attr-defined]
        SignInGuard.SecondFactorUsed,  # type: ignore[attr-defined]
    )
)


class AccessLog(Application):
    """The access stream's application service: record, lock out, and query (the query is
    for the audit administrator only; the caller checks that role)."""

    # A login under attack gains a few guard events every WINDOW; snapshots keep loading it
    # cheap (they are an unsigned cache in their own table, never what verify checks).
    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {SignInGuard: 50}

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self._refuse_edits()

    @classmethod
    def open(cls, settings: Settings) -> AccessLog:
        """The access log of the instance ``settings`` describes (its own table and key)."""
        return open_application(cls, access_settings(settings))

    def record(
        self,
        *,
        who: str,
        role: str,
        action: str,
        subject: str,
        outcome: str,
        origin: str,
        at: datetime,
    ) -> None:
        """Record one access: a read, an administrative action, anything but the sign-ins
        that :meth:`sign_in_failed` and :meth:`sign_in_succeeded` record."""
        fields = dict(
            who=who, role=role, action=action, subject=subject, outcome=outcome, origin=origin
        )
        check_entry(**fields, at=at)
        self.save(AccessEntry(**fields, at=at))

    def sign_in_failed(self, login_key: str, *, origin: str, at: datetime) -> datetime | None:
        """Record a failed sign-in; returns when the login's lock ends if it is locked now
        (this failure locked it, or it was locked already), else None.

        A failure while the login is locked is recorded but not counted: the lock is not
        extended by whoever keeps trying, and the guard does not grow with them."""
        self._check_login(login_key, origin, at)

        def attempt(guard: SignInGuard) -> datetime | None:
            if guard.is_locked(at):
                self._plain_signin(ANONYMOUS, ANONYMOUS, login_key, "failed", origin, at)
                return guard.locked_until
            guard.fail(origin=origin, at=at)
            self.save(guard)
            return guard.locked_until if guard.is_locked(at) else None

        return self._with_guard(login_key, attempt, create=True)

    def sign_in_succeeded(
        self, login_key: str, account_id: str, *, origin: str, at: datetime, role: str = "account"
    ) -> None:
        """Record a successful sign-in and forget the login's failures.

        Raises :class:`LoginLocked` (after recording the attempt as refused) when the login
        is locked: a caller that checked the password anyway is not let in."""
        self._check_login(login_key, origin, at)
        check_entry(
            who=account_id, role=role, action=SIGNIN, subject="", outcome="ok", origin=origin, at=at
        )

        def attempt(guard: SignInGuard | None) -> None:
            if guard is not None and guard.is_locked(at):
                assert guard.locked_until is not None
                self._plain_signin(account_id, role, login_key, "refused", origin, at)
                raise LoginLocked(guard.locked_until)
            if guard is not None and guard.failures:
                guard.succeed(account_id=account_id, role=role, origin=origin, at=at)
                self.save(guard)
            else:  # nothing to reset: keep the guard small
                self._plain_signin(account_id, role, login_key, "ok", origin, at)

        self._with_guard(login_key, attempt, create=False)

    def last_code_step(self, login_key: str) -> int | None:
        """The TOTP step the login used last; a code of that step or an earlier one is spent."""
        guard = self._guard(login_key)
        return guard.last_code_step if guard is not None else None

    def code_used(
        self, login_key: str, account_id: str, *, role: str, step: int, origin: str, at: datetime
    ) -> None:
        """Record that the login used the code of ``step``; :class:`CodeReused` when it (or a
        later one) was used already, also by a racing sign-in."""
        self._check_login(login_key, origin, at)

        def attempt(guard: SignInGuard) -> None:
            guard.code_used(account_id=account_id, role=role, step=step, origin=origin, at=at)
            self.save(guard)

        self._with_guard(login_key, attempt, create=True)

    def locked_until(self, login_key: str, at: datetime) -> datetime | None:
        """When the login's lock ends, if it is locked at ``at``; else None."""
        guard = self._guard(login_key)
        return guard.locked_until if guard is not None and guard.is_locked(at) else None

    def entries(
        self,
        *,
        since: datetime | None = None,
        who: str | None = None,
        what: str | None = None,
    ) -> list[dict[str, Any]]:
        """The entries at or after ``since``, by ``who`` (exact), whose action starts with
        ``what``, oldest first (by their time, then by their order in the stream).

        For the audit administrator, whose role the caller checks. Each entry has the keys
        of FIELDS and ``until`` (the end of a lock-out, else None). It reads the whole stream
        (entries are filtered after decoding): a query for audits, not for a page view."""
        found = []
        for entry in self._entry_events():
            if since is not None and entry.at < since:
                continue
            if who is not None and entry.who != who:
                continue
            if what is not None and not entry.action.startswith(what):
                continue
            found.append({name: getattr(entry, name) for name in FIELDS})
            found[-1]["until"] = getattr(entry, "until", None)
        return sorted(found, key=lambda item: item["at"])

    # --- inside ----------------------------------------------------------------------------

    def _entry_events(self) -> Iterator[Any]:
        start = 1
        while True:
            page = self.recorder.select_notifications(start, _PAGE, topics=ENTRY_TOPICS)
            for notification in page:
                yield self.mapper.to_domain_event(notification)
            if len(page) < _PAGE:
                return
            start = page[-1].id + 1

    def _plain_signin(
        self, who: str, role: str, login_key: str, outcome: str, origin: str, at: datetime
    ) -> None:
        fields = dict(who=who, role=role, action=SIGNIN, subject=login_key, outcome=outcome)
        self.save(AccessEntry(**fields, origin=origin, at=at))

    def _check_login(self, login_key: str, origin: str, at: datetime) -> None:
        check_entry(
            who=ANONYMOUS,
            role=ANONYMOUS,
            action=SIGNIN,
            subject=login_key,
            outcome="failed",
            origin=origin,
            at=at,
        )
        if not login_key:
            raise AccessLogError("login_key must be a keyed hash of the login, not empty")

    def _guard(self, login_key: str) -> SignInGuard | None:
        try:
            guard = self.repository.get(SignInGuard.create_id(login_key))
        except AggregateNotFoundError:
            return None
        assert isinstance(guard, SignInGuard)
        return guard

    def _with_guard(self, login_key: str, attempt: Callable[[Any], G], *, create: bool) -> G:
        """Run ``attempt`` on the login's guard (new when ``create`` and none exists); when two
        sign-ins of one login race, the store lets one through and the other tries again on
        the fresh state, so no failure goes uncounted or unrecorded."""
        for _ in range(_SAVE_TRIES - 1):
            try:
                return attempt(self._loaded_guard(login_key, create))
            except IntegrityError:
                continue
        return attempt(self._loaded_guard(login_key, create))

    def _loaded_guard(self, login_key: str, create: bool) -> SignInGuard | None:
        guard = self._guard(login_key)
        if guard is None and create:
            guard = SignInGuard(login_key)
        return guard

    def _refuse_edits(self) -> None:
        """On PostgreSQL, make the database itself refuse UPDATE, DELETE and TRUNCATE of the
        access events (once; an advisory lock keeps processes that start together apart)."""
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        if engine is None or engine.dialect.name != "postgresql":
            return
        table = self.recorder.events_table_name  # type: ignore[attr-defined]
        trigger = f"{table}_append_only"
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": trigger})
            exists = conn.execute(
                sa.text(
                    "SELECT 1 FROM pg_trigger WHERE tgname = :name "
                    "AND tgrelid = to_regclass(:table)"
                ),
                {"name": trigger, "table": table},
            ).first()
            if exists:
                return
            conn.execute(sa.text(_REFUSE_FUNCTION))
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION huiyan_refuse_access_log_edit()"
                )
            )


_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION huiyan_refuse_access_log_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME;
END
$$
"""
