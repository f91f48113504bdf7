"""The final round of a track [七(二)]: who advances, the on-site scores, the awards.

The top N of the preliminary standings advance (N in the rules; a team that failed a gate
never does), signed ``published``. On site, experts see who they score (the defence is in
person) and give each of the four final dimensions a number on the published scale, signed
``scored``; a conflict of interest still bars them. The final ranking is the scoring
package's (weights and tie-breaks from the rules); the organiser gives the track's awards down
that ranking, signed ``awarded``. Each award's event is what a certificate points to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.errors import (
    FinalAlreadyAdvanced,
    FinalAlreadyAwarded,
    FinalAlreadyScored,
    FinalGateFailed,
    FinalNotAdvanced,
    FinalScoreInvalid,
    FinalTooMany,
    FinalUnscored,
)
from domain.time import require_aware

FINAL_NAMESPACE = UUID("e81d4c27-0a9f-4b36-95e2-3f7c1a8d6b40")


class FinalRound(ContestAggregate):
    @staticmethod
    def create_id(contest_id: UUID, track: int) -> UUID:
        return uuid5(FINAL_NAMESPACE, f"{contest_id}:{track}")

    @event("Opened")
    def __init__(self, contest_id: UUID, track: int) -> None:
        self.contest_id, self.track = contest_id, track
        self.finalists: list[dict[str, Any]] = []
        self.sheets: dict[str, dict[str, Any]] = {}  # "<team>:<expert>" -> sheet
        self.awards: list[dict[str, Any]] = []
        self.awarded_at: datetime | None = None

    class Advanced(SignedDecision):
        finalists: list[dict[str, Any]]
        limit: int
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    def advance(
        self,
        finalists: list[dict[str, Any]],
        *,
        limit: int,
        gates_passed: Mapping[UUID, bool],
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        """``finalists``: ``{team_id, submission_id, rank, preliminary_score}`` from the top
        of the published standings; ``gates_passed``: what each team's recorded score says."""
        if self.finalists:
            raise FinalAlreadyAdvanced(track=self.track)
        if len(finalists) > limit:
            raise FinalTooMany(limit=limit)
        for finalist in finalists:
            if not gates_passed.get(finalist["team_id"], False):
                raise FinalGateFailed(team=finalist["team_id"])
        self._advanced(
            finalists=finalists,
            limit=limit,
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Advanced)
    def _advanced(
        self,
        finalists: list[dict[str, Any]],
        limit: int,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.finalists = finalists

    class Scored(SignedDecision):
        team_id: UUID
        expert: UUID
        dimensions: dict[str, float]
        at: datetime
        personal_signature: dict[str, Any] | None

    def score(
        self,
        *,
        team_id: UUID,
        expert: UUID,
        dimensions: Mapping[str, float],
        names: Sequence[str],
        scale_max: float,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        self.require_finalist(team_id)
        if f"{team_id}:{expert}" in self.sheets:
            raise FinalAlreadyScored(team=team_id)
        if set(dimensions) != set(names):
            raise FinalScoreInvalid(detail=f"score exactly {', '.join(names)}")
        for name in names:
            value = dimensions[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FinalScoreInvalid(detail=f"{name} is not a number")
            if not 0 <= value <= scale_max:
                raise FinalScoreInvalid(detail=f"{name} must be from 0 to {scale_max:g}")
        self._scored(
            team_id=team_id,
            expert=expert,
            dimensions={name: float(dimensions[name]) for name in names},
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Scored)
    def _scored(
        self,
        team_id: UUID,
        expert: UUID,
        dimensions: dict[str, float],
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.sheets[f"{team_id}:{expert}"] = {
            "team_id": team_id,
            "expert": expert,
            "dimensions": dimensions,
            "at": at,
        }

    class Awarded(SignedDecision):
        awards: list[dict[str, Any]]
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    def award(
        self,
        awards: list[dict[str, Any]],
        *,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        """``awards``: ``{team_id, award, rank, final_score}`` down the final ranking."""
        if self.awards:
            raise FinalAlreadyAwarded(track=self.track)
        for award in awards:
            self.require_finalist(award["team_id"])
            if not self.sheets_of(award["team_id"]):
                raise FinalUnscored(team=award["team_id"])
        self._awarded(
            awards=awards,
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Awarded)
    def _awarded(
        self,
        awards: list[dict[str, Any]],
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.awards, self.awarded_at = awards, at

    # --- facts for callers -------------------------------------------------------------------

    def require_finalist(self, team_id: UUID) -> None:
        if all(f["team_id"] != team_id for f in self.finalists):
            raise FinalNotAdvanced(team=team_id, track=self.track)

    def sheets_of(self, team_id: UUID) -> list[dict[str, float]]:
        return [s["dimensions"] for s in self.sheets.values() if s["team_id"] == team_id]
