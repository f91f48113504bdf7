"""Read models of the contest: what listings show of teams and submissions, kept by a library
``Projection`` that turns each event into a change of a row.

Pure: the projection calls the methods of a view (``ListingsView``, an eventsourcing
``TrackingRecorder``) and never touches a database; the SQL tables that implement the view are
infrastructure (services/read_models.py), the loop that feeds it is ledger/read_models.py.

Derived, disposable and rebuildable (docs/architecture.md rule 2): a listing shows facts, it
decides nothing. Every rule still loads its aggregates from the event stream. Each handler does
to its row exactly what the aggregate's ``@event`` body does to the aggregate, so that the rows
equal the aggregates (tests/ledger/test_read_models.py replays every event kind).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.submissions import PendingWork, Submission
from domain.submissions import Status as SubmissionStatus
from domain.teams import Status as TeamStatus
from domain.teams import Team


@dataclass(frozen=True)
class TeamListing:
    id: UUID
    contest_id: UUID
    name: str
    status: TeamStatus
    disqualified: bool
    language: str | None
    tracks: dict[int, str]  # track -> group, as Team.tracks


@dataclass(frozen=True)
class SubmissionListing:
    id: UUID
    team_id: UUID
    contest_id: UUID
    track: int
    status: SubmissionStatus
    submitted_at: datetime
    metric: str | None = None  # the primary metric's name, once scored
    value: float | None = None
    gates_passed: bool | None = None
    efficiency: float | None = None


class ListingsView(TrackingRecorder, ABC):
    """What the projection writes and the listings read. Each write carries the tracking of
    the event it comes from, so rows and position change together."""

    @abstractmethod
    def add_team(self, listing: TeamListing, tracking: Tracking) -> None: ...

    @abstractmethod
    def change_team(self, team_id: UUID, tracking: Tracking, **facts: Any) -> None:
        """``facts``: any of language, status, tracks (the whole mapping)."""

    @abstractmethod
    def team_tracks(self, team_id: UUID) -> dict[int, str]: ...

    @abstractmethod
    def change_evidence(
        self, team_id: UUID, tracking: Tracking, *, add: list[str], remove: list[str]
    ) -> None:
        """The matches that disqualify the team; disqualified while there is one."""

    @abstractmethod
    def add_submission(self, listing: SubmissionListing, tracking: Tracking) -> None: ...

    @abstractmethod
    def change_submission(self, submission_id: UUID, tracking: Tracking, **facts: Any) -> None:
        """``facts``: any of status, metric, value, gates_passed, efficiency."""

    @abstractmethod
    def skip(self, tracking: Tracking) -> None:
        """An event this view keeps nothing of: only the position moves."""

    # --- reading ---------------------------------------------------------------------------

    @abstractmethod
    def teams(self, contest_id: UUID) -> list[TeamListing]:
        """The contest's teams in the order they registered."""

    @abstractmethod
    def submissions(self, *, team_id: UUID | None = None) -> list[SubmissionListing]:
        """Submissions in the order they were made, a team's or all."""

    @abstractmethod
    def pending_work(self) -> list[PendingWork]:
        """As ``Submissions.pending_work``: the stage of every submission without a final
        result, in the order they were made."""


_STATUS_OF = {
    Team.Submitted: TeamStatus.SUBMITTED,
    Team.Withdrawn: TeamStatus.WITHDRAWN,
    Team.Approved: TeamStatus.APPROVED,
    Team.Rejected: TeamStatus.REJECTED,
}
_SUBMISSION_STATUS_OF = {
    Submission.InferenceStarted: SubmissionStatus.RUNNING,
    Submission.InferenceCompleted: SubmissionStatus.INFERRED,
    Submission.InferenceFailed: SubmissionStatus.FAILED,
    Submission.ScoringFailed: SubmissionStatus.FAILED,
}


class Listings(Projection[ListingsView]):
    """Teams and submissions as listings show them."""

    name = "listings"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Team.Registered,
            Team.LanguageChosen,
            Team.TrackEntered,
            Team.TrackLeft,
            Team.Disqualified,
            Team.MatchCleared,
            *_STATUS_OF,
            Submission.Submitted,
            Submission.ScoreComputed,
            Submission.ScoreSuperseded,
            *_SUBMISSION_STATUS_OF,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        status = _STATUS_OF.get(type(domain_event))
        if status is not None:
            self.view.change_team(domain_event.originator_id, tracking, status=status)
            return
        status = _SUBMISSION_STATUS_OF.get(type(domain_event))
        if status is not None:
            self.view.change_submission(domain_event.originator_id, tracking, status=status)
            return
        self.view.skip(tracking)

    @process_event.register
    def _registered(self, domain_event: Team.Registered, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_team(
            TeamListing(
                id=event.originator_id,
                contest_id=event.contest_id,
                name=event.name,
                status=TeamStatus.DRAFT,
                disqualified=False,
                language=event.language,
                tracks={},
            ),
            tracking,
        )

    @process_event.register
    def _language(self, domain_event: Team.LanguageChosen, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.change_team(event.originator_id, tracking, language=event.language)

    @process_event.register
    def _track_entered(self, domain_event: Team.TrackEntered, tracking: Tracking) -> None:
        event: Any = domain_event
        tracks = self.view.team_tracks(event.originator_id)
        tracks[event.track] = event.group
        self.view.change_team(event.originator_id, tracking, tracks=tracks)

    @process_event.register
    def _track_left(self, domain_event: Team.TrackLeft, tracking: Tracking) -> None:
        event: Any = domain_event
        tracks = self.view.team_tracks(event.originator_id)
        tracks.pop(event.track, None)
        self.view.change_team(event.originator_id, tracking, tracks=tracks)

    @process_event.register
    def _disqualified(self, domain_event: Team.Disqualified, tracking: Tracking) -> None:
        event: Any = domain_event
        matches = [item["match"] for item in event.evidence]
        self.view.change_evidence(event.originator_id, tracking, add=matches, remove=[])

    @process_event.register
    def _cleared(self, domain_event: Team.MatchCleared, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.change_evidence(event.originator_id, tracking, add=[], remove=[event.match])

    @process_event.register
    def _submitted(self, domain_event: Submission.Submitted, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_submission(
            SubmissionListing(
                id=event.originator_id,
                team_id=event.team_id,
                contest_id=event.contest_id,
                track=event.track,
                status=SubmissionStatus.SUBMITTED,
                submitted_at=event.at,
            ),
            tracking,
        )

    @process_event.register
    def _scored(self, domain_event: Submission.ScoreComputed, tracking: Tracking) -> None:
        self._score(domain_event, tracking)

    @process_event.register
    def _rescored(self, domain_event: Submission.ScoreSuperseded, tracking: Tracking) -> None:
        self._score(domain_event, tracking)  # an upheld appeal's re-score: the new one counts

    def _score(self, event: Any, tracking: Tracking) -> None:
        primary = event.breakdown.get("primary") or {}
        value = primary.get("value")
        self.view.change_submission(
            event.originator_id,
            tracking,
            status=SubmissionStatus.SCORED,
            metric=primary.get("name"),
            value=None if value is None else float(value),
            gates_passed=bool(event.gates_passed),
            efficiency=event.efficiency,
        )


def team_listing(team: Team) -> TeamListing:
    """What the listing of an aggregate should read (for tests and checks)."""
    return TeamListing(
        id=team.id,
        contest_id=team.contest_id,
        name=team.name,
        status=team.status,
        disqualified=team.disqualified,
        language=team.language,
        tracks=dict(team.tracks),
    )


def submission_listing(submission: Submission) -> SubmissionListing:
    score = submission.score or {}
    primary = (score.get("breakdown") or {}).get("primary") or {}
    value = primary.get("value")
    return SubmissionListing(
        id=submission.id,
        team_id=submission.team_id,
        contest_id=submission.contest_id,
        track=submission.track,
        status=submission.status,
        submitted_at=submission.submitted_at,
        metric=primary.get("name"),
        value=None if value is None else float(value),
        gates_passed=score.get("gates_passed"),
        efficiency=score.get("efficiency"),
    )
