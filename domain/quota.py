"""The submission quota of one team in one track: per contest day and in total.

The quota is a rule across many Submission aggregates, so it gets its own small aggregate
whose id is derived from (contest, team, track) and which is saved in the same transaction as
the submission it admits. Two racing submissions both load version n and both try to write
n + 1: the store's optimistic concurrency lets exactly one through, so the quota cannot be
exceeded by submitting twice at the same moment.

A slot is taken on the contest day (Asia/Shanghai) of the submission and given back when the
run failed for a platform reason; the model's own failures keep their slot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.contest import Quota
from domain.errors import DailyQuotaReached, TotalQuotaReached
from domain.time import SHANGHAI, require_aware

QUOTA_NAMESPACE = UUID("3b8e2f61-7c4d-4a9e-b1f0-5d6c8a2e9f07")


def contest_day(now: datetime) -> str:
    """The calendar day in contest time on which a submission counts (ISO date)."""
    return require_aware(now, "now").astimezone(SHANGHAI).date().isoformat()


class SubmissionQuota(ContestAggregate):
    @staticmethod
    def create_id(contest_id: UUID, team_id: UUID, track: int) -> UUID:
        return uuid5(QUOTA_NAMESPACE, f"{contest_id}\n{team_id}\n{track}")

    @event("Opened")
    def __init__(self, contest_id: UUID, team_id: UUID, track: int) -> None:
        self.contest_id, self.team_id, self.track = contest_id, team_id, track
        self.slots: dict[str, dict[str, Any]] = {}  # by submission id

    def used(self, day: str | None = None) -> int:
        """Slots held (not refunded), on ``day`` or in total."""
        return sum(
            1
            for slot in self.slots.values()
            if not slot["refunded"] and (day is None or slot["day"] == day)
        )

    def require_slot(self, quota: Quota, now: datetime) -> str:
        """Refuses when the day's or the track's allowance is used up; returns the day."""
        day = contest_day(now)
        if self.used(day) >= quota.per_day:
            raise DailyQuotaReached(limit=quota.per_day, track=self.track, day=day)
        if self.used() >= quota.total:
            raise TotalQuotaReached(limit=quota.total, track=self.track)
        return day

    def take(self, submission_id: UUID, *, quota: Quota, now: datetime) -> None:
        day = self.require_slot(quota, now)
        self._taken(submission_id=submission_id, day=day)

    @event("SlotTaken")
    def _taken(self, submission_id: UUID, day: str) -> None:
        self.slots[str(submission_id)] = {"day": day, "refunded": False}

    def refund(self, submission_id: UUID, *, reason: str) -> bool:
        """Gives the slot back; False when it was never taken here or is already back."""
        slot = self.slots.get(str(submission_id))
        if slot is None or slot["refunded"]:
            return False
        self._refunded(submission_id=submission_id, reason=reason)
        return True

    @event("SlotRefunded")
    def _refunded(self, submission_id: UUID, reason: str) -> None:
        self.slots[str(submission_id)]["refunded"] = True
