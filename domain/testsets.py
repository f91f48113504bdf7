"""The hidden test sets: which one each track is scored on, committed by content hash.

The test set itself (images and truth) never enters the ledger or leaves the platform
[Q&A 12, 18]; the ledger keeps the SHA-256 of the whole set and of its truth file, and every
submission records the set in force when it was made, so a score can always be traced to the
exact data it was computed on. One aggregate per contest (derived id), like the rules book.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.contest import Contest
from domain.errors import (
    ContentHashInvalid,
    ContestFieldInvalid,
    ReasonRequired,
    TestSetMissing,
    TestSetUnchanged,
)

TESTSETS_NAMESPACE = UUID("8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e08")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def require_sha256(field: str, value: str) -> str:
    """Content is named by its SHA-256 in lowercase hex, never by a name or a tag."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ContentHashInvalid(field=field, value=repr(value))
    return value


class TestSets(ContestAggregate):
    __test__ = False  # a contest aggregate, not a pytest class

    class Registered(ContestAggregate.Event):
        """v2 adds ``public``: a public debug set (calibration data the teams may see), the
        only kind of set whose runs' logs a team may read in the debug phase."""

        class_version = 2
        track: int
        sha256: str
        truth_sha256: str
        cases: int
        reason: str
        public: bool
        by: UUID
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["public"] = False

    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(TESTSETS_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.current: dict[str, dict[str, Any]] = {}  # by track number as text
        self.history: list[dict[str, Any]] = []

    def register(
        self,
        track: int,
        *,
        sha256: str,
        truth_sha256: str,
        cases: int,
        contest: Contest,
        by: UUID,
        now: datetime,
        reason: str = "",
        public: bool = False,
    ) -> None:
        """Makes a set the track's current one. Replacing it once the round is on changes
        what later submissions are scored against, so that needs a written reason.
        ``public`` marks a public debug set; every other set is hidden."""
        contest.track(track)
        require_sha256("testset", sha256)
        require_sha256("truth", truth_sha256)
        if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1:
            raise ContestFieldInvalid(field="testset.cases", value=cases)
        current = self.current.get(str(track))
        if current is not None and current["sha256"] == sha256:
            raise TestSetUnchanged(track=track)
        if current is not None and contest.calendar.round_started(now) and not reason.strip():
            raise ReasonRequired()
        self._registered(
            track=track,
            sha256=sha256,
            truth_sha256=truth_sha256,
            cases=cases,
            reason=reason.strip(),
            public=public is True,
            by=by,
            at=now,
        )

    @event(Registered)
    def _registered(
        self,
        track: int,
        sha256: str,
        truth_sha256: str,
        cases: int,
        reason: str,
        public: bool,
        by: UUID,
        at: datetime,
    ) -> None:
        record = {
            "track": track,
            "sha256": sha256,
            "truth_sha256": truth_sha256,
            "cases": cases,
            "reason": reason,
            "public": public,
            "by": by,
            "at": at,
        }
        self.current[str(track)] = record
        self.history.append(record)

    def is_public(self, sha256: str) -> bool:
        """Whether the set was registered as a public debug set (never true of a hidden one,
        even if the same bytes were registered both ways: hidden wins)."""
        records = [r for r in self.history if r["sha256"] == sha256]
        return bool(records) and all(r.get("public") for r in records)

    def in_force(self, track: int) -> dict[str, Any]:
        """The set a submission made now is scored on."""
        try:
            return self.current[str(track)]
        except KeyError:
            raise TestSetMissing(track=track) from None
