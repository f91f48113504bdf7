"""The publication of a track's preliminary results [七(一)].

The organiser publishes, signed ``published``, the standings of a track as they stand (each
team's composite and its parts, computed by the scoring package from recorded scores), with a
leaderboard mode and a freeze time:

- ``hidden``: no leaderboard; each team sees only its own score, every indicator of it;
- ``ranks``: the leaderboard shows ranks and team names;
- ``full``: ranks, names, composite and its parts.

The freeze time is when the public leaderboard stops taking submissions in: an entry
submitted after it does not show until the next publication. The appeal window runs from the
track's first publication. A later publication (after a ruling) supersedes the earlier one;
both stay in the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.errors import LeaderboardModeUnknown, ResultsNotPublished
from domain.time import require_aware

RESULTS_NAMESPACE = UUID("c3a9e5d1-7f2b-4e60-8d14-5b9a0e3f6c27")
MODES = ("hidden", "ranks", "full")


class Results(ContestAggregate):
    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(RESULTS_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.publications: list[dict[str, Any]] = []

    class Published(SignedDecision):
        track: int
        number: int
        mode: str
        freeze_at: datetime
        standings: list[dict[str, Any]]
        rules_version: int
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    def publish(
        self,
        *,
        track: int,
        mode: str,
        freeze_at: datetime,
        standings: list[dict[str, Any]],
        rules_version: int,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> int:
        if mode not in MODES:
            raise LeaderboardModeUnknown(mode=mode, modes=list(MODES))
        number = len(self.publications) + 1
        self._published(
            track=track,
            number=number,
            mode=mode,
            freeze_at=require_aware(freeze_at, "freeze_at"),
            standings=standings,
            rules_version=rules_version,
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )
        return number

    @event(Published)
    def _published(
        self,
        track: int,
        number: int,
        mode: str,
        freeze_at: datetime,
        standings: list[dict[str, Any]],
        rules_version: int,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.publications.append(
            {
                "track": track,
                "number": number,
                "mode": mode,
                "freeze_at": freeze_at,
                "standings": standings,
                "rules_version": rules_version,
                "by": by,
                "at": at,
            }
        )

    def latest(self, track: int) -> dict[str, Any] | None:
        found = [p for p in self.publications if p["track"] == track]
        return found[-1] if found else None

    def appeal_window_closes(self, track: int, window_days: int) -> datetime:
        """Appeals run for ``window_days`` from the track's first publication."""
        first = next((p for p in self.publications if p["track"] == track), None)
        if first is None:
            raise ResultsNotPublished(track=track)
        return first["at"] + timedelta(days=window_days)
