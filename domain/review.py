"""The anonymised preliminary review of one team's entry in a track [七(一), Q&A 6].

Experts know an entry by its pseudonym only (``T1-7F3A``): the pseudonym is drawn once per
team and track and stays with the team's entry, whatever submission it reviews. They read the
technical report only after it was sanitised and found clean (services/report_sanitiser.py; a
report that still names the team is held, and the team sends a clean one). Each round of
review has its experts (assigned by :func:`assign_experts`, never one with a conflict of
interest); each expert grades every rubric dimension on the published levels, signed. An
upheld appeal may order a re-review: a new round with new experts, the old sheets stay in the
history and the new round counts.

Grades are facts; their arithmetic (mean or trimmed mean, the composite) is the scoring
package's (scoring/ranking.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.errors import (
    GradeNotALevel,
    PseudonymInvalid,
    ReviewAlreadyAssigned,
    ReviewAlreadyScored,
    ReviewNotAssigned,
    ReviewReportNotClean,
    RubricMismatch,
)
from domain.time import require_aware

REVIEW_NAMESPACE = UUID("0f6b2c8e-3a71-4d5e-9b12-6e4f8a2d7c31")
PSEUDONYM_NAMESPACE = UUID("9d3e7a10-5b2c-4f86-a1e4-2c7b9f0e8d42")
_PSEUDONYM = re.compile(r"T([1-8])-[0-9A-F]{4}")


def check_pseudonym(pseudonym: str, track: int) -> str:
    match = _PSEUDONYM.fullmatch(pseudonym)
    if match is None or int(match.group(1)) != track:
        raise PseudonymInvalid(pseudonym=pseudonym)
    return pseudonym


class PseudonymClaim(ContestAggregate):
    """One pseudonym per contest: saved with the review, so two entries drawing the same
    pseudonym race for version 1 and one of them draws again."""

    @staticmethod
    def create_id(contest_id: UUID, pseudonym: str) -> UUID:
        return uuid5(PSEUDONYM_NAMESPACE, f"{contest_id}:{pseudonym}")

    @event("Claimed")
    def __init__(self, contest_id: UUID, pseudonym: str, review_id: UUID) -> None:
        self.review_id = review_id


class Review(ContestAggregate):
    @staticmethod
    def create_id(contest_id: UUID, track: int, team_id: UUID) -> UUID:
        return uuid5(REVIEW_NAMESPACE, f"{contest_id}:{track}:{team_id}")

    @classmethod
    def open(
        cls,
        *,
        contest_id: UUID,
        track: int,
        team_id: UUID,
        submission_id: UUID,
        pseudonym: str,
        by: UUID,
        now: datetime,
    ) -> Review:
        return cls(
            contest_id=contest_id,
            track=track,
            team_id=team_id,
            submission_id=submission_id,
            pseudonym=check_pseudonym(pseudonym, track),
            by=by,
            at=require_aware(now, "now"),
        )

    class Opened(ContestAggregate.Created):
        contest_id: UUID
        track: int
        team_id: UUID
        submission_id: UUID
        pseudonym: str
        by: UUID
        at: datetime

    @event(Opened)
    def __init__(
        self,
        contest_id: UUID,
        track: int,
        team_id: UUID,
        submission_id: UUID,
        pseudonym: str,
        by: UUID,
        at: datetime,
    ) -> None:
        self.contest_id, self.track, self.team_id = contest_id, track, team_id
        self.submission_id, self.pseudonym = submission_id, pseudonym
        self.report: dict[str, Any] | None = None
        self.rounds: list[dict[str, Any]] = [_round(1, None)]

    # --- the report ------------------------------------------------------------------------

    def check_report(
        self,
        *,
        source_sha256: str,
        sanitised_sha256: str | None,
        hit_kinds: list[str],
        now: datetime,
    ) -> None:
        """Records the anonymity check of the team's report (the sealed original, by hash):
        clean, with the sanitised copy experts read, or held with the kinds of what it still
        names (``team name``, ``member name``...; never the names themselves)."""
        self._report_checked(
            source_sha256=source_sha256,
            sanitised_sha256=None if hit_kinds else sanitised_sha256,
            hit_kinds=sorted(set(hit_kinds)),
            at=require_aware(now, "now"),
        )

    @event("ReportChecked")
    def _report_checked(
        self,
        source_sha256: str,
        sanitised_sha256: str | None,
        hit_kinds: list[str],
        at: datetime,
    ) -> None:
        self.report = {
            "source_sha256": source_sha256,
            "sanitised_sha256": sanitised_sha256,
            "hit_kinds": hit_kinds,
            "at": at,
        }

    @property
    def report_clean(self) -> bool:
        return self.report is not None and self.report["sanitised_sha256"] is not None

    @property
    def report_held(self) -> bool:
        return self.report is not None and self.report["sanitised_sha256"] is None

    # --- experts ---------------------------------------------------------------------------

    def assign(self, experts: list[UUID], *, now: datetime) -> None:
        if not self.report_clean:
            raise ReviewReportNotClean(pseudonym=self.pseudonym)
        if self.current["experts"]:
            raise ReviewAlreadyAssigned(pseudonym=self.pseudonym, round=self.current["number"])
        self._assigned(round=self.current["number"], experts=list(experts), at=now)

    @event("Assigned")
    def _assigned(self, round: int, experts: list[UUID], at: datetime) -> None:
        self.current["experts"] = experts

    class Scored(SignedDecision):
        round: int
        expert: UUID
        grades: dict[str, int]
        at: datetime
        personal_signature: dict[str, Any] | None

    def score(
        self,
        *,
        expert: UUID,
        grades: Mapping[str, int],
        dimensions: Sequence[str],
        levels: Sequence[int],
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        """One expert's sheet for the current round: every dimension of the rubric, once, on
        a published level."""
        current = self.current
        if expert not in current["experts"]:
            raise ReviewNotAssigned(pseudonym=self.pseudonym)
        if str(expert) in current["sheets"]:
            raise ReviewAlreadyScored(pseudonym=self.pseudonym)
        if set(grades) != set(dimensions):
            raise RubricMismatch(dimensions=list(dimensions))
        for dimension in dimensions:
            grade = grades[dimension]
            if isinstance(grade, bool) or grade not in levels:
                raise GradeNotALevel(dimension=dimension, grade=grade, levels=list(levels))
        self._scored(
            round=current["number"],
            expert=expert,
            grades={dimension: int(grades[dimension]) for dimension in dimensions},
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Scored)
    def _scored(
        self,
        round: int,
        expert: UUID,
        grades: dict[str, int],
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.current["sheets"][str(expert)] = {"grades": grades, "at": at}

    def reopen(self, *, appeal_id: UUID, now: datetime) -> None:
        """An upheld appeal orders a re-review: a new round, to be assigned to new experts."""
        self._reopened(
            round=self.current["number"] + 1, appeal_id=appeal_id, at=require_aware(now, "now")
        )

    @event("Reopened")
    def _reopened(self, round: int, appeal_id: UUID, at: datetime) -> None:
        self.rounds.append(_round(round, appeal_id))

    # --- facts for callers -------------------------------------------------------------------

    @property
    def current(self) -> dict[str, Any]:
        """The round that counts: the latest."""
        return self.rounds[-1]

    @property
    def complete(self) -> bool:
        current = self.current
        return bool(current["experts"]) and len(current["sheets"]) == len(current["experts"])

    @property
    def sheets(self) -> list[dict[str, int]]:
        """The current round's grades, in the order the experts were assigned."""
        sheets = self.current["sheets"]
        return [sheets[str(e)]["grades"] for e in self.current["experts"] if str(e) in sheets]

    @property
    def reviewers(self) -> set[UUID]:
        """Every expert who was ever given this entry, in any round (an arbitrator must be
        none of them)."""
        return {expert for r in self.rounds for expert in r["experts"]}


def _round(number: int, appeal_id: UUID | None) -> dict[str, Any]:
    return {"number": number, "appeal_id": appeal_id, "experts": [], "sheets": {}}


@dataclass(frozen=True)
class Candidate:
    """An expert who may take work, with the work they already have."""

    expert: UUID
    load: int


def assign_experts(
    review_id: UUID,
    candidates: Sequence[Candidate],
    *,
    k: int,
    barred: set[UUID],
) -> list[UUID]:
    """The k least-loaded candidates not ``barred`` (conflicts, earlier rounds, the same
    team's other tracks when the rules say so). Equal loads are ordered by a hash of the
    review and the expert: deterministic, so anyone replaying the record gets the same
    assignment, and not by name, so no expert is always first. Fewer than k when there are
    not enough candidates (the caller leaves the entry unassigned and says why)."""
    free = [c for c in candidates if c.expert not in barred]
    free.sort(key=lambda c: (c.load, _draw_order(review_id, c.expert)))
    return [c.expert for c in free[:k]]


def _draw_order(subject: UUID, person: UUID) -> str:
    return hashlib.sha256(f"{subject}:{person}".encode()).hexdigest()


def draw_order(subject: UUID, people: Sequence[UUID]) -> list[UUID]:
    """``people`` in the order of the public draw for ``subject`` (an assignment, an
    appeal): reproducible from the record alone."""
    return sorted(people, key=lambda person: _draw_order(subject, person))
