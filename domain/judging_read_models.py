"""Read models of the judging: each review's state (report, round, experts, sheets), the
corrections upheld appeals made to scores, each appeal's state, and the publications of
results; kept by a library ``Projection``, as the listings are (domain/read_models.py).

Pure: the projection calls the methods of a view (``JudgingView``, an eventsourcing
``TrackingRecorder``) and never touches a database; the SQL tables are
services/judging_read_models.py, the loop that feeds it is ledger/read_models.py. It has its
own tracked position, apart from the listings': the two follow disjoint topics, and either
can be rebuilt alone.

Derived, disposable and rebuildable (docs/architecture.md rule 2): the leaderboard, an expert's
tasks and the list of appeals read these rows; every judging decision (assignment, a sheet, the
draw, a ruling, a publication and the standings it records) still loads its aggregates. Each
handler does to its row exactly what the aggregate's ``@event`` body does to the aggregate, so
that the rows equal the aggregates (tests/domain/test_judging_read_models.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.appeals import Appeal, AppealStatus
from domain.results import Results
from domain.review import Review
from domain.submissions import Submission

UNCHECKED, CLEAN, HELD = "unchecked", "clean", "held"  # the report, as the organiser sees it


@dataclass(frozen=True)
class ReviewListing:
    """One team's entry in a track under review: the round that counts, and everyone who was
    ever given it."""

    id: UUID
    contest_id: UUID
    track: int
    team_id: UUID
    submission_id: UUID
    pseudonym: str
    report: str  # UNCHECKED, CLEAN or HELD
    sanitised_sha256: str | None  # the copy experts read, once the report is clean
    round: int  # the current round's number (a re-review opens the next one)
    experts: list[UUID]  # the current round's, in the order they were assigned
    sheets: dict[str, dict[str, int]]  # the current round's: str(expert) -> grades
    reviewers: frozenset[UUID] = field(default_factory=frozenset)  # every round's experts

    @property
    def complete(self) -> bool:
        """As ``Review.complete``: every expert of the current round has graded."""
        return bool(self.experts) and len(self.sheets) == len(self.experts)

    @property
    def grades(self) -> list[dict[str, int]]:
        """As ``Review.sheets``: the current round's grades in the order of the experts."""
        return [self.sheets[str(e)] for e in self.experts if str(e) in self.sheets]


@dataclass(frozen=True)
class AppealListing:
    """An appeal as ``appeal list`` shows it (the aggregate's attribute names, so a view of
    an appeal reads either)."""

    id: UUID
    contest_id: UUID
    team_id: UUID
    track: int
    item: str
    number: int
    submission_id: UUID
    filed_at: datetime
    evidence: list[str]  # the sealed files' hashes
    status: AppealStatus
    waiting: str | None
    arbitrators: list[UUID]
    ruling: dict[str, Any] | None  # arbitrator, outcome, remedy, reasons_sha256, at
    remedied: dict[str, Any] | None  # kind, detail, at


@dataclass(frozen=True)
class PublicationListing:
    """One publication of a track's results, without the standings it recorded (those are in
    the ledger; the leaderboard shows the standings as they stand, up to the freeze). The
    event does not name the contest: its Results aggregate's id does
    (``Results.create_id(contest_id)``)."""

    results_id: UUID
    track: int
    number: int
    mode: str
    freeze_at: datetime
    rules_version: int
    at: datetime


class JudgingView(TrackingRecorder, ABC):
    """What the projection writes and the judging reads read. Each write carries the tracking
    of the event it comes from, so rows and position change together."""

    @abstractmethod
    def add_review(self, listing: ReviewListing, tracking: Tracking) -> None: ...

    @abstractmethod
    def change_review(self, review_id: UUID, tracking: Tracking, **facts: Any) -> None:
        """``facts``: any of report, sanitised_sha256, round, experts, sheets, reviewers. The
        view keeps, besides, which experts had the review in which round (an expert's tasks):
        ``experts`` are the current round's (``round`` when given, else the row's)."""

    @abstractmethod
    def assignment(self, review_id: UUID) -> tuple[int, frozenset[UUID]]:
        """The review's current round and everyone ever given it (what an assignment
        changes)."""

    @abstractmethod
    def sheets(self, review_id: UUID) -> dict[str, dict[str, int]]:
        """The current round's sheets (what a sheet adds to)."""

    @abstractmethod
    def correct_score(self, submission_id: UUID, item: str, value: Any, tracking: Tracking) -> None:
        """The item's corrected value, replacing an earlier correction of the same item."""

    @abstractmethod
    def add_appeal(self, listing: AppealListing, tracking: Tracking) -> None: ...

    @abstractmethod
    def change_appeal(self, appeal_id: UUID, tracking: Tracking, **facts: Any) -> None:
        """``facts``: any of status, waiting, arbitrators, ruling, remedied."""

    @abstractmethod
    def add_publication(self, listing: PublicationListing, tracking: Tracking) -> None: ...

    @abstractmethod
    def skip(self, tracking: Tracking) -> None:
        """An event this view keeps nothing of: only the position moves."""

    # --- reading ---------------------------------------------------------------------------

    @abstractmethod
    def review(self, review_id: UUID) -> ReviewListing | None: ...

    @abstractmethod
    def reviews(self, contest_id: UUID, track: int | None = None) -> list[ReviewListing]:
        """The contest's (or the track's) reviews in the order they were opened."""

    @abstractmethod
    def tasks(self, expert_id: UUID, contest_id: UUID | None = None) -> list[ReviewListing]:
        """The reviews whose current round the expert was given, in the order opened."""

    @abstractmethod
    def corrections(self, submission_id: UUID) -> dict[str, Any]:
        """As ``Submission.corrections``, the values only: item -> corrected value."""

    @abstractmethod
    def appeal(self, appeal_id: UUID) -> AppealListing | None: ...

    @abstractmethod
    def appeals(
        self,
        contest_id: UUID,
        *,
        team_id: UUID | None = None,
        arbitrator: UUID | None = None,
    ) -> list[AppealListing]:
        """The contest's appeals in the order filed: all, a team's, or those an arbitrator
        was drawn for."""

    @abstractmethod
    def publication(self, contest_id: UUID, track: int) -> PublicationListing | None:
        """As ``Results.latest(track)``: the track's latest publication, if any."""


class JudgingReadModels(Projection[JudgingView]):
    """Reviews, corrections, appeals and publications as the judging reads show them."""

    name = "judging"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Review.Opened,
            Review.ReportChecked,
            Review.Assigned,
            Review.Scored,
            Review.Reopened,
            Submission.ScoreCorrected,
            Appeal.Filed,
            Appeal.Drawn,
            Appeal.Waiting,
            Appeal.Ruled,
            Appeal.Remedied,
            Results.Published,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.skip(tracking)

    # --- reviews -----------------------------------------------------------------------------

    @process_event.register
    def _opened(self, domain_event: Review.Opened, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_review(
            ReviewListing(
                id=event.originator_id,
                contest_id=event.contest_id,
                track=event.track,
                team_id=event.team_id,
                submission_id=event.submission_id,
                pseudonym=event.pseudonym,
                report=UNCHECKED,
                sanitised_sha256=None,
                round=1,
                experts=[],
                sheets={},
            ),
            tracking,
        )

    @process_event.register
    def _report_checked(self, domain_event: Review.ReportChecked, tracking: Tracking) -> None:
        event: Any = domain_event
        sanitised = event.sanitised_sha256
        self.view.change_review(
            event.originator_id,
            tracking,
            report=HELD if sanitised is None else CLEAN,
            sanitised_sha256=sanitised,
        )

    @process_event.register
    def _assigned(self, domain_event: Review.Assigned, tracking: Tracking) -> None:
        event: Any = domain_event
        round_, reviewers = self.view.assignment(event.originator_id)
        experts = list(event.experts)  # the current round's, as the aggregate sets them
        self.view.change_review(
            event.originator_id,
            tracking,
            round=round_,
            experts=experts,
            reviewers=reviewers | set(experts),
        )

    @process_event.register
    def _scored(self, domain_event: Review.Scored, tracking: Tracking) -> None:
        event: Any = domain_event  # the current round's sheet, whatever round it names
        sheets = self.view.sheets(event.originator_id)
        sheets[str(event.expert)] = dict(event.grades)
        self.view.change_review(event.originator_id, tracking, sheets=sheets)

    @process_event.register
    def _reopened(self, domain_event: Review.Reopened, tracking: Tracking) -> None:
        event: Any = domain_event  # a new round counts from now; the old one is history
        self.view.change_review(
            event.originator_id, tracking, round=event.round, experts=[], sheets={}
        )

    # --- submissions -------------------------------------------------------------------------

    @process_event.register
    def _corrected(self, domain_event: Submission.ScoreCorrected, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.correct_score(event.originator_id, event.item, event.value, tracking)

    # --- appeals -----------------------------------------------------------------------------

    @process_event.register
    def _filed(self, domain_event: Appeal.Filed, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_appeal(
            AppealListing(
                id=event.originator_id,
                contest_id=event.contest_id,
                team_id=event.team_id,
                track=event.track,
                item=event.item,
                number=event.number,
                submission_id=event.submission_id,
                filed_at=event.at,
                evidence=list(event.evidence),
                status=AppealStatus.FILED,
                waiting=None,
                arbitrators=[],
                ruling=None,
                remedied=None,
            ),
            tracking,
        )

    @process_event.register
    def _drawn(self, domain_event: Appeal.Drawn, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.change_appeal(
            event.originator_id,
            tracking,
            arbitrators=list(event.arbitrators),
            waiting=None,
            status=AppealStatus.DRAWN,
        )

    @process_event.register
    def _waiting(self, domain_event: Appeal.Waiting, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.change_appeal(
            event.originator_id, tracking, waiting=event.reason, status=AppealStatus.WAITING
        )

    @process_event.register
    def _ruled(self, domain_event: Appeal.Ruled, tracking: Tracking) -> None:
        event: Any = domain_event
        ruling = {
            "arbitrator": event.arbitrator,
            "outcome": event.outcome,
            "remedy": event.remedy,
            "reasons_sha256": event.reasons_sha256,
            "at": event.at,
        }
        self.view.change_appeal(
            event.originator_id, tracking, ruling=ruling, status=AppealStatus(event.outcome)
        )

    @process_event.register
    def _remedied(self, domain_event: Appeal.Remedied, tracking: Tracking) -> None:
        event: Any = domain_event
        remedied = {"kind": event.kind, "detail": event.detail, "at": event.at}
        self.view.change_appeal(
            event.originator_id, tracking, remedied=remedied, status=AppealStatus.REMEDIED
        )

    # --- results -----------------------------------------------------------------------------

    @process_event.register
    def _published(self, domain_event: Results.Published, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_publication(
            PublicationListing(
                results_id=event.originator_id,
                track=event.track,
                number=event.number,
                mode=event.mode,
                freeze_at=event.freeze_at,
                rules_version=event.rules_version,
                at=event.at,
            ),
            tracking,
        )


# --- what the rows of an aggregate should read (for tests and checks) ------------------------


def review_listing(review: Review) -> ReviewListing:
    current = review.current
    report = UNCHECKED if review.report is None else CLEAN if review.report_clean else HELD
    return ReviewListing(
        id=review.id,
        contest_id=review.contest_id,
        track=review.track,
        team_id=review.team_id,
        submission_id=review.submission_id,
        pseudonym=review.pseudonym,
        report=report,
        sanitised_sha256=None if review.report is None else review.report["sanitised_sha256"],
        round=current["number"],
        experts=list(current["experts"]),
        sheets={expert: dict(sheet["grades"]) for expert, sheet in current["sheets"].items()},
        reviewers=frozenset(review.reviewers),
    )


def corrections_of(submission: Submission) -> dict[str, Any]:
    return {item: found["value"] for item, found in submission.corrections.items()}


def appeal_listing(appeal: Appeal) -> AppealListing:
    return AppealListing(
        id=appeal.id,
        contest_id=appeal.contest_id,
        team_id=appeal.team_id,
        track=appeal.track,
        item=appeal.item,
        number=appeal.number,
        submission_id=appeal.submission_id,
        filed_at=appeal.filed_at,
        evidence=list(appeal.evidence),
        status=appeal.status,
        waiting=appeal.waiting,
        arbitrators=list(appeal.arbitrators),
        ruling=appeal.ruling,
        remedied=appeal.remedied,
    )


def publication_listing(results: Results, track: int) -> PublicationListing | None:
    latest = results.latest(track)
    if latest is None:
        return None
    return PublicationListing(
        results_id=results.id,
        track=track,
        number=latest["number"],
        mode=latest["mode"],
        freeze_at=latest["freeze_at"],
        rules_version=latest["rules_version"],
        at=latest["at"],
    )
