"""Appeals and their arbitration [Q&A 7].

A team's leader appeals against one score item of the team's entry in a track, within the
window the rules publish (counted from the first publication of the track's results), with
reasons and evidence (sealed under the team's key; the appeal carries their hashes), signed
``appealed``. Arbitrators are drawn at once from the panel: never one who reviewed or scored
the entry, took part in an earlier arbitration of the same matter (the team's entry in that
track), or has a conflict of interest with the team. With none eligible the appeal waits and
says why. A drawn arbitrator rules, signed ``ruled``: dismissed, or upheld with one of the
published remedies. A ruling edits nothing: the remedy appends events that supersede
(a new score, a corrected item, a new round of review), and the appeal records that it was
carried out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.errors import (
    AppealItemNotAppealable,
    AppealNotOpen,
    AppealNotYours,
    AppealOutcomeUnknown,
    AppealWindowClosed,
    RemedyInvalid,
    RemedyNotAllowed,
    RemedyNotPending,
)
from domain.time import require_aware

APPEAL_NAMESPACE = UUID("4a8e1f62-9c3d-4b7a-8e25-d1f0c6a9b354")
OUTCOMES = ("dismissed", "upheld")
# What each remedy names: a re-score under a named rules version, a re-review by new experts,
# or a corrected value of the appealed item with its reason.
REMEDY_FIELDS = {"rescore": ("rules_version",), "rereview": (), "correct": ("value",)}


class AppealStatus(StrEnum):
    FILED = "filed"
    WAITING = "waiting"  # no eligible arbitrator yet
    DRAWN = "drawn"
    DISMISSED = "dismissed"
    UPHELD = "upheld"  # the remedy is due
    REMEDIED = "remedied"


class Appeal(ContestAggregate):
    @staticmethod
    def create_id(team_id: UUID, track: int, item: str, number: int = 1) -> UUID:
        return uuid5(APPEAL_NAMESPACE, f"{team_id}:{track}:{item}:{number}")

    @classmethod
    def file(
        cls,
        *,
        contest_id: UUID,
        team_id: UUID,
        track: int,
        submission_id: UUID,
        item: str,
        number: int,
        reasons_sha256: str,
        evidence: list[str],
        items: Sequence[str],
        closes: datetime,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> Appeal:
        if item not in items:
            raise AppealItemNotAppealable(item=item, items=list(items))
        if require_aware(now, "now") > closes:
            raise AppealWindowClosed(closed=closes)
        return cls(
            contest_id=contest_id,
            team_id=team_id,
            track=track,
            submission_id=submission_id,
            item=item,
            number=number,
            reasons_sha256=reasons_sha256,
            evidence=list(evidence),
            by=by,
            at=now,
            personal_signature=personal_signature,
        )

    class Filed(ContestAggregate.Created):
        """Signed ``appealed`` by the leader (the signature covers every field)."""

        contest_id: UUID
        team_id: UUID
        track: int
        submission_id: UUID
        item: str
        number: int
        reasons_sha256: str
        evidence: list[str]
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    @event(Filed)
    def __init__(
        self,
        contest_id: UUID,
        team_id: UUID,
        track: int,
        submission_id: UUID,
        item: str,
        number: int,
        reasons_sha256: str,
        evidence: list[str],
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.contest_id, self.team_id, self.track = contest_id, team_id, track
        self.submission_id, self.item, self.number = submission_id, item, number
        self.reasons_sha256, self.evidence = reasons_sha256, evidence
        self.filed_by, self.filed_at = by, at
        self.status = AppealStatus.FILED
        self.arbitrators: list[UUID] = []
        self.waiting: str | None = None
        self.ruling: dict[str, Any] | None = None
        self.remedied: dict[str, Any] | None = None

    # --- the draw ----------------------------------------------------------------------------

    def draw(self, arbitrators: list[UUID], *, now: datetime) -> None:
        """The arbitrators drawn (domain.review.draw_order over those eligible)."""
        self._require(AppealStatus.FILED, AppealStatus.WAITING)
        self._drawn(arbitrators=list(arbitrators), at=require_aware(now, "now"))

    @event("Drawn")
    def _drawn(self, arbitrators: list[UUID], at: datetime) -> None:
        self.arbitrators, self.waiting = arbitrators, None
        self.status = AppealStatus.DRAWN

    def wait(self, reason: str, *, now: datetime) -> bool:
        """No arbitrator is eligible: the appeal waits and says why (recorded once per
        reason, so asking again changes nothing)."""
        self._require(AppealStatus.FILED, AppealStatus.WAITING)
        if self.waiting == reason:
            return False
        self._waiting(reason=reason, at=require_aware(now, "now"))
        return True

    @event("Waiting")
    def _waiting(self, reason: str, at: datetime) -> None:
        self.waiting = reason
        self.status = AppealStatus.WAITING

    # --- the ruling --------------------------------------------------------------------------

    class Ruled(SignedDecision):
        arbitrator: UUID
        outcome: str
        remedy: dict[str, Any] | None
        reasons_sha256: str
        at: datetime
        personal_signature: dict[str, Any] | None

    def rule(
        self,
        *,
        arbitrator: UUID,
        outcome: str,
        remedy: dict[str, Any] | None,
        reasons_sha256: str,
        remedies: Sequence[str],
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        if arbitrator not in self.arbitrators:
            raise AppealNotYours(appeal=self.id)
        self._require(AppealStatus.DRAWN)
        if outcome not in OUTCOMES:
            raise AppealOutcomeUnknown(outcome=outcome, outcomes=list(OUTCOMES))
        remedy = check_remedy(outcome, remedy, remedies, item=self.item)
        self._ruled(
            arbitrator=arbitrator,
            outcome=outcome,
            remedy=remedy,
            reasons_sha256=reasons_sha256,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Ruled)
    def _ruled(
        self,
        arbitrator: UUID,
        outcome: str,
        remedy: dict[str, Any] | None,
        reasons_sha256: str,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.ruling = {
            "arbitrator": arbitrator,
            "outcome": outcome,
            "remedy": remedy,
            "reasons_sha256": reasons_sha256,
            "at": at,
        }
        self.status = AppealStatus(outcome)

    def record_remedy(self, kind: str, *, detail: dict[str, Any], now: datetime) -> None:
        """The ordered remedy was carried out (``detail``: what it appended)."""
        pending = self.ruling["remedy"] if self.ruling else None
        if self.status is not AppealStatus.UPHELD or pending is None or pending["kind"] != kind:
            raise RemedyNotPending(appeal=self.id, remedy=kind)
        self._remedied(kind=kind, detail=detail, at=require_aware(now, "now"))

    @event("Remedied")
    def _remedied(self, kind: str, detail: dict[str, Any], at: datetime) -> None:
        self.remedied = {"kind": kind, "detail": detail, "at": at}
        self.status = AppealStatus.REMEDIED

    def _require(self, *statuses: AppealStatus) -> None:
        if self.status not in statuses:
            raise AppealNotOpen(appeal=self.id, status=self.status.value)


def check_remedy(
    outcome: str, remedy: dict[str, Any] | None, remedies: Sequence[str], *, item: str
) -> dict[str, Any] | None:
    """A dismissal orders nothing; an upheld appeal orders one published remedy with exactly
    the facts it needs."""
    if outcome == "dismissed":
        if remedy is not None:
            raise RemedyInvalid(detail="a dismissed appeal orders no remedy")
        return None
    if remedy is None:
        raise RemedyInvalid(detail="an upheld appeal orders a remedy")
    kind = remedy.get("kind")
    if kind not in REMEDY_FIELDS:
        raise RemedyNotAllowed(remedy=kind, remedies=list(remedies))
    if kind not in remedies:
        raise RemedyNotAllowed(remedy=kind, remedies=list(remedies))
    wanted = set(REMEDY_FIELDS[kind]) | {"kind"}
    if set(remedy) != wanted:
        raise RemedyInvalid(detail=f"the remedy {kind} names {', '.join(sorted(wanted))}")
    if kind == "correct":
        check_corrected_value(item, remedy["value"])
    if kind == "rescore" and (
        isinstance(remedy["rules_version"], bool)
        or not isinstance(remedy["rules_version"], int)
        or remedy["rules_version"] < 1
    ):
        raise RemedyInvalid(detail="a re-score names a published rules version (1, 2, ...)")
    return dict(remedy)


def check_corrected_value(item: str, value: Any) -> None:
    """A corrected gate is passed or not; a corrected figure is a number in [0, 1]."""
    if item == "gates":
        if not isinstance(value, bool):
            raise RemedyInvalid(detail="a corrected gates item is true or false")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise RemedyInvalid(detail=f"a corrected {item} is a number from 0 to 1")


def eligible_arbitrators(
    panel: Sequence[UUID],
    *,
    conflicts: dict[UUID, str | None],
    reviewers: set[UUID],
    earlier: set[UUID],
) -> tuple[list[UUID], str | None]:
    """Who of ``panel`` may arbitrate, and why none may when the list is empty. ``conflicts``:
    each member's conflict with the team (domain.experts.conflict; None = none); ``reviewers``:
    who reviewed or scored the entry; ``earlier``: who arbitrated the same matter before."""
    eligible = [
        person
        for person in panel
        if conflicts.get(person) is None and person not in reviewers and person not in earlier
    ]
    if eligible:
        return eligible, None
    if not panel:
        return [], "no arbitrator is enrolled"
    return [], (
        f"none of the {len(panel)} enrolled arbitrators is independent: each reviewed or scored "
        "the entry, arbitrated the matter before, has a conflict of interest with the team or "
        "has not signed the agreement and declared"
    )
