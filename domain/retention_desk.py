"""The retention desk: reads what a contest holds and records what was destroyed of it.

Destroying comes between deciding and recording. The desk checks every rule and has each
decision signed (:meth:`RetentionDesk.prepare`); the caller then destroys the keys and files
(I/O the domain does not do) and only then records the signed events
(:meth:`RetentionDesk.record`). A crash in between leaves things destroyed and unrecorded,
which the next run finds (a key's tombstone, a missing file) and records; the opposite order
could leave a record of a destruction that never happened.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from domain.accounts import Actor, Role
from domain.appeals import Appeal, AppealStatus
from domain.blacklist import Blacklist
from domain.desk import ContestDesk
from domain.errors import (
    AppealNotFound,
    AppealsOpen,
    ContestNotOver,
    DomainError,
    StoreKindUnknown,
    SubmissionNotFound,
    TeamNotFound,
)
from domain.retention import STORE_KINDS, Retention
from domain.signatures import Signer
from domain.submissions import Submission
from domain.teams import Status, Team
from domain.testsets import TestSets
from domain.time import require_aware

# An appeal in one of these states may still need the files and the reasons it names.
OPEN_APPEALS = (AppealStatus.FILED, AppealStatus.WAITING, AppealStatus.DRAWN, AppealStatus.UPHELD)
MEANING = "shredded"
Decision = Callable[[Retention, dict[str, Any] | None], None]


@dataclass(frozen=True)
class Shredding:
    """What one signed decision destroys of a contest, with the hashes the caller read off the
    key files and the stores before destroying anything."""

    teams: Mapping[UUID, str | None] = field(default_factory=dict)  # team -> key file SHA-256
    secret: bool = False
    secret_sha256: str | None = None
    # kind -> (hashes present in the store, hashes the ledger names but the store lacks)
    stores: Mapping[str, tuple[Sequence[str], Sequence[str]]] = field(default_factory=dict)
    retention_days: Mapping[str, int] = field(default_factory=dict)  # the rules' <kind>_days
    reason: str = ""

    @property
    def empty(self) -> bool:
        return not (self.teams or self.secret or self.stores)


class RetentionDesk(ContestDesk):
    # --- reading -----------------------------------------------------------------------------

    def retention(self, contest_id: UUID) -> Retention:
        return self._get_or_open(Retention, contest_id)

    def teams_of(self, contest_id: UUID) -> list[Team]:
        found = (self.team(ident) for ident in self._created(Team.Registered))
        return [team for team in found if team.contest_id == contest_id]

    def closing_problem(self, contest_id: UUID, now: datetime) -> DomainError | None:
        """Why the contest has not closed yet, or None: it closes when its final has ended
        and no appeal is open (an appeal's reasons are sealed under the team's key, and a
        re-score needs the predictions and the test set)."""
        calendar = self.contest(contest_id).calendar
        if require_aware(now, "now") < calendar.final_end:
            return ContestNotOver(final_end=calendar.final_end)
        appeals = (
            self._get(Appeal, ident, AppealNotFound(appeal=ident))
            for ident in self._created(Appeal.Filed)
        )
        still_open = [a for a in appeals if a.contest_id == contest_id and a.status in OPEN_APPEALS]
        if still_open:
            return AppealsOpen(count=len(still_open))
        return None

    def stored(self, contest_id: UUID) -> dict[str, set[str]]:
        """The content hashes of what the contest's records name in each store: model bundles
        (a Docker image is the engine's, not a store's), run outputs, test sets."""
        found: dict[str, set[str]] = {kind: set() for kind in STORE_KINDS}
        for ident in self._created(Submission.Submitted):
            submission = self._get(Submission, ident, SubmissionNotFound(submission=ident))
            if submission.contest_id != contest_id:
                continue
            if submission.model_kind == "bundle":
                found["models"].add(submission.model_ref)
            if submission.inference is not None:
                found["predictions"].add(submission.inference["output_sha256"])
        sets = self._get_or_open(TestSets, contest_id)
        found["testsets"].update(record["sha256"] for record in sets.history)
        return found

    # --- deciding ----------------------------------------------------------------------------

    def check(self, contest_id: UUID, shredding: Shredding, *, actor: Actor, now: datetime) -> None:
        """Every rule of the shredding, played on a copy: refused before anyone signs."""
        retention, decisions = self._decisions(contest_id, shredding, actor=actor, now=now)
        trial = copy.deepcopy(retention)
        for decide in decisions:
            decide(trial, None)

    def prepare(
        self,
        contest_id: UUID,
        shredding: Shredding,
        *,
        actor: Actor,
        now: datetime,
        signer: Signer | None,
    ) -> Retention:
        """The contest's record with the shredding's events signed and pending (nothing is
        saved): the caller destroys, then :meth:`record`\\ s."""
        self.check(contest_id, shredding, actor=actor, now=now)
        retention, decisions = self._decisions(contest_id, shredding, actor=actor, now=now)
        for decide in decisions:
            self._signed(retention, decide, meaning=MEANING, actor=actor, signer=signer, now=now)
        return retention

    def record(self, retention: Retention) -> None:
        self._save(retention)

    def _decisions(
        self, contest_id: UUID, shredding: Shredding, *, actor: Actor, now: datetime
    ) -> tuple[Retention, list[Decision]]:
        actor.require(Role.COMPLIANCE_OFFICER, action="shred personal data and stored files")
        contest = self.contest(contest_id)
        retention = self.retention(contest_id)
        by = actor.account_id
        decisions: list[Decision] = []
        for team_id, key_sha256 in shredding.teams.items():
            if self.team(team_id).contest_id != contest_id:
                raise TeamNotFound(team=team_id)
            decisions.append(partial(_team, team_id, key_sha256, shredding.reason, by=by, now=now))
        if shredding.secret:
            teams = self.teams_of(contest_id)
            facts = {
                "secret_sha256": shredding.secret_sha256,
                "calendar": contest.calendar,
                "reviews_pending": sum(team.status is Status.SUBMITTED for team in teams),
                "unfinished_screenings": self._get_or_open(Blacklist, contest_id).unfinished(),
            }
            decisions.append(partial(_secret, facts, by=by, now=now))
        for kind, (present, missing) in shredding.stores.items():
            if kind not in shredding.retention_days:
                raise StoreKindUnknown(kind=kind, kinds=list(STORE_KINDS))
            facts = {
                "hashes": list(present),
                "missing": list(missing),
                "calendar": contest.calendar,
                "days": shredding.retention_days[kind],
            }
            decisions.append(partial(_store, kind, facts, by=by, now=now))
        return retention, decisions


def _team(
    team_id: UUID,
    key_sha256: str | None,
    reason: str,
    target: Retention,
    signature: dict[str, Any] | None,
    *,
    by: UUID,
    now: datetime,
) -> None:
    target.shred_team(
        team_id, key_sha256=key_sha256, reason=reason, by=by, now=now,
        personal_signature=signature,
    )  # fmt: skip


def _secret(
    facts: dict[str, Any],
    target: Retention,
    signature: dict[str, Any] | None,
    *,
    by: UUID,
    now: datetime,
) -> None:
    target.shred_secret(**facts, by=by, now=now, personal_signature=signature)


def _store(
    kind: str,
    facts: dict[str, Any],
    target: Retention,
    signature: dict[str, Any] | None,
    *,
    by: UUID,
    now: datetime,
) -> None:
    target.shred_store(kind, **facts, by=by, now=now, personal_signature=signature)
