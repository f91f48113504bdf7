"""Retention and crypto-shredding: what was destroyed of a contest, when, and on whose signed
decision (docs/audit.md).

Destroying personal data must leave a record that says so, or nobody could later show that it
happened (PIPL art. 47), and the record must not carry what it destroyed. So the ledger records
hashes only: of the team's key file, of the contest's identity secret, of the model bundles,
predictions and test sets removed from the stores. Every hash, signature and proof recorded
before stays as it was; only what was sealed under a destroyed key no longer opens.

The rules are checked here with the facts the desk gathers (no I/O): the identity secret goes
only once nobody can register or change a registration, no registration awaits its review and
no blacklist screening is unfinished; a stored kind goes only once its retention period
(published in the rules, counted from the contest's final_end) has run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.contest import Calendar
from domain.errors import (
    AlreadyShredded,
    ReasonRequired,
    RegistrationNotOver,
    RegistrationReviewsPending,
    RetentionNotDue,
    ScreeningUnfinished,
    StoreKindUnknown,
)
from domain.time import require_aware

RETENTION_NAMESPACE = UUID("0d6c2b9e-73a4-4f18-9e5b-c3a81f47d2e6")
# The stores a contest fills, in the words of the rules' retention section (<kind>_days).
STORE_KINDS: tuple[str, ...] = ("models", "predictions", "testsets")


def store_due(calendar: Calendar, days: int) -> datetime:
    """When a stored kind may go: ``days`` after the contest's final ends."""
    return calendar.final_end + timedelta(days=days)


class Retention(ContestAggregate):
    """One per contest: every shredding of its teams' keys, its identity secret and its stored
    files, each under the signature (meaning ``shredded``) of whoever decided it."""

    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(RETENTION_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.teams: dict[UUID, dict[str, Any]] = {}
        self.secret: dict[str, Any] | None = None
        self.stores: dict[str, dict[str, datetime]] = {kind: {} for kind in STORE_KINDS}

    # --- facts for callers -------------------------------------------------------------------

    def shredded(self, kind: str) -> set[str]:
        """The hashes of a stored kind already recorded as destroyed."""
        return set(self.stores.get(kind, {}))

    # --- a team's personal-data key ----------------------------------------------------------

    def shred_team(
        self,
        team_id: UUID,
        *,
        key_sha256: str | None,
        reason: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        if team_id in self.teams:
            raise AlreadyShredded(what=f"team {team_id}", at=self.teams[team_id]["at"])
        if not reason.strip():
            raise ReasonRequired()
        self._team_shredded(
            team_id=team_id,
            key_sha256=key_sha256,
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event("TeamShredded")
    def _team_shredded(
        self,
        team_id: UUID,
        key_sha256: str | None,
        reason: str,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.teams[team_id] = {"key_sha256": key_sha256, "reason": reason, "by": by, "at": at}

    # --- the contest's identity secret -------------------------------------------------------

    def shred_secret(
        self,
        *,
        secret_sha256: str | None,
        calendar: Calendar,
        reviews_pending: int,
        unfinished_screenings: Sequence[int],
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        """After the last registration check only: past every deadline to register or change
        a registration, no registration awaiting review, no screening cut short."""
        if self.secret is not None:
            raise AlreadyShredded(what="the identity secret", at=self.secret["at"])
        closes = max(calendar.registration_deadline, calendar.modification_deadline)
        if require_aware(now, "now") < closes:
            raise RegistrationNotOver(deadline=closes)
        if reviews_pending:
            raise RegistrationReviewsPending(count=reviews_pending)
        if unfinished_screenings:
            raise ScreeningUnfinished(lists=list(unfinished_screenings))
        self._secret_shredded(
            secret_sha256=secret_sha256, by=by, at=now, personal_signature=personal_signature
        )

    @event("SecretShredded")
    def _secret_shredded(
        self,
        secret_sha256: str | None,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.secret = {"secret_sha256": secret_sha256, "by": by, "at": at}

    # --- stored models, predictions, test sets -----------------------------------------------

    def shred_store(
        self,
        kind: str,
        *,
        hashes: Sequence[str],
        missing: Sequence[str],
        calendar: Calendar,
        days: int,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        """``hashes`` were removed from the store; ``missing`` were named by the ledger but no
        longer there (removed by hand, or on another host): both are recorded, apart."""
        if kind not in STORE_KINDS:
            raise StoreKindUnknown(kind=kind, kinds=list(STORE_KINDS))
        due = store_due(calendar, days)
        if require_aware(now, "now") < due:
            raise RetentionNotDue(kind=kind, due=due)
        recorded = self.stores[kind]
        named = [*hashes, *missing]
        if not named:
            raise AlreadyShredded(
                what=f"every one of the {kind}", at=max(recorded.values(), default=now)
            )
        done = [digest for digest in named if digest in recorded]
        if done:
            raise AlreadyShredded(what=f"{kind} {done[0]}", at=recorded[done[0]])
        self._store_shredded(
            kind=kind,
            hashes=sorted(hashes),
            missing=sorted(missing),
            due=due,
            by=by,
            at=now,
            personal_signature=personal_signature,
        )

    @event("StoreShredded")
    def _store_shredded(
        self,
        kind: str,
        hashes: list[str],
        missing: list[str],
        due: datetime,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        for digest in (*hashes, *missing):
            self.stores[kind][digest] = at
