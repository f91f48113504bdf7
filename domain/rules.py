"""The published scoring rules: a numbered list of versions, each committed by its SHA-256.

The complete rules must be public before the competition starts [Q&A 1] and must not move
under the teams' feet afterwards, so publishing is refused once the preliminary round has
begun. Earlier versions stay listed; every score names the version in force.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.contest import Calendar
from domain.errors import RulesFrozen, RulesNotPublished, RulesUnchanged

RULES_NAMESPACE = UUID("0d7e6b8a-31c4-4f0e-8a55-2b9d3f1c7e02")


class RulesBook(ContestAggregate):
    """One per contest (derived id), so two first publications cannot both succeed."""

    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(RULES_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.versions: list[dict[str, Any]] = []

    class Published(SignedDecision):
        version: int
        sha256: str
        blob: str
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    def publish(
        self,
        *,
        sha256: str,
        blob: str,
        calendar: Calendar,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> int:
        if calendar.round_started(now):
            raise RulesFrozen(started=calendar.preliminary_start)
        if self.versions and self.versions[-1]["sha256"] == sha256:
            raise RulesUnchanged(version=self.versions[-1]["version"])
        version = len(self.versions) + 1
        self._published(
            version=version,
            sha256=sha256,
            blob=blob,
            by=by,
            at=now,
            personal_signature=personal_signature,
        )
        return version

    @event(Published)
    def _published(
        self,
        version: int,
        sha256: str,
        blob: str,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.versions.append(
            {"version": version, "sha256": sha256, "blob": blob, "by": by, "at": at}
        )

    def in_force(self) -> dict[str, Any]:
        """The version every score computed from now on must name."""
        if not self.versions:
            raise RulesNotPublished()
        return self.versions[-1]
