"""The debug phase: the only time a team may read (a capped head of) its own model's log.

A model's log can carry whatever the model printed, test data included, so it stays with the
platform unless the organiser opens a debug phase (on the calibration data, before or at the
start of the round) [Q&A 12: data only goes in]. Opening and closing are organiser decisions
on the record; one aggregate per contest, derived id.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import ContestFieldInvalid, DebugPhaseClosed, DebugPhaseOpen
from domain.time import require_aware

DEBUG_NAMESPACE = UUID("e5a7c9b1-3d2f-4e6a-8b0c-1f2e3d4c5b09")
DEFAULT_LOG_CAP = 64 * 1024  # bytes of a log a team may read while the phase is open


class DebugPhase(ContestAggregate):
    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(DEBUG_NAMESPACE, str(contest_id))

    @event("Created")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.is_open = False
        self.log_cap = DEFAULT_LOG_CAP

    def open(self, *, log_cap: int, by: UUID, now: datetime) -> None:
        if self.is_open:
            raise DebugPhaseOpen()
        if isinstance(log_cap, bool) or not isinstance(log_cap, int) or log_cap < 1:
            raise ContestFieldInvalid(field="debug.log_cap", value=log_cap)
        self._opened(log_cap=log_cap, by=by, at=require_aware(now, "now"))

    @event("Opened")
    def _opened(self, log_cap: int, by: UUID, at: datetime) -> None:
        self.is_open, self.log_cap = True, log_cap

    def close(self, *, by: UUID, now: datetime) -> None:
        if not self.is_open:
            raise DebugPhaseClosed()
        self._closed(by=by, at=require_aware(now, "now"))

    @event("Closed")
    def _closed(self, by: UUID, at: datetime) -> None:
        self.is_open = False
