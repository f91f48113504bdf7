"""The in-site messages (站内信): what a team is told of the decisions about it, derived from the
ledger's events by a library ``Projection``, as the listings are (domain/read_models.py).

A message is never a second source of truth: each is one event seen from the team it concerns,
rebuildable from the log at any time, with an id derived from the event (its aggregate's id and
version) and the team, so a rebuild gives every message the id it had, and whatever is kept
about it elsewhere (who read it, when it was e-mailed) still fits.

Who is told what (docs/web/notices.md):

- a registration approved or rejected (with the reason): that team;
- the organiser's call for the registration letters: every team of the contest registered by
  then;
- a run scored, or failed with its reason: the submitting team;
- a track's results published: every team that submitted in that track;
- an appeal ruled: the appellant team (the arbitrators made the ruling and read it in their
  own pages; the reasons stay in the appeal's file).

The text is written at reading time in the recipient's language (the team's, else Chinese),
from the message's kind and facts (:func:`render`); the facts are those of the event, never
personal data.

Pure: the projection calls the methods of a view (``InboxView``, an eventsourcing
``TrackingRecorder``); the SQL tables are services/inbox.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.appeals import Appeal
from domain.contest import Contest
from domain.results import Results
from domain.submissions import Submission
from domain.teams import Team

MESSAGE_NAMESPACE = UUID("3e9b1f04-6a2c-4d8e-b7f1-0c5a2e8d4b13")
DEFAULT_LANGUAGE = "zh"
_DETAIL_SHOWN = 400  # of a failed run's detail (the domain caps what it records at 1000)

APPROVED, REJECTED, DOCUMENTS_CALLED = "approved", "rejected", "documents_called"
SCORED, RUN_FAILED, SCORING_FAILED = "scored", "run_failed", "scoring_failed"
RESULTS_PUBLISHED, APPEAL_RULED = "results_published", "appeal_ruled"


@dataclass(frozen=True)
class Message:
    id: UUID
    team_id: UUID
    kind: str
    facts: dict[str, Any]
    at: datetime
    seq: int = 0  # the event's position in the log: the order messages were made in


@dataclass(frozen=True)
class Subject:
    """What a later event needs of an earlier one: the team (and contest, track) a submission,
    an appeal or a contest's results belong to."""

    id: UUID
    team_id: UUID | None
    contest_id: UUID | None
    track: int | None = None
    item: str | None = None


def message_id(event: Any, team_id: UUID) -> UUID:
    return uuid5(MESSAGE_NAMESPACE, f"{event.originator_id}:{event.originator_version}:{team_id}")


class InboxView(TrackingRecorder, ABC):
    """What the projection writes and the inbox reads."""

    @abstractmethod
    def add_team(
        self, team_id: UUID, contest_id: UUID, language: str | None, tracking: Tracking
    ) -> None: ...

    @abstractmethod
    def change_language(self, team_id: UUID, language: str, tracking: Tracking) -> None: ...

    @abstractmethod
    def add_subject(self, subject: Subject, tracking: Tracking) -> None: ...

    @abstractmethod
    def subject(self, ident: UUID) -> Subject | None: ...

    @abstractmethod
    def teams_of(self, contest_id: UUID) -> list[UUID]:
        """The contest's teams, in the order they registered."""

    @abstractmethod
    def teams_in_track(self, contest_id: UUID, track: int) -> list[UUID]:
        """The teams that submitted in the track, in the order of their first submission."""

    @abstractmethod
    def add_messages(self, messages: list[Message], tracking: Tracking) -> None: ...

    @abstractmethod
    def skip(self, tracking: Tracking) -> None: ...

    # --- reading ---------------------------------------------------------------------------

    @abstractmethod
    def messages(self, team_id: UUID) -> list[Message]:
        """The team's messages, newest first."""

    @abstractmethod
    def message(self, ident: UUID) -> Message | None: ...

    @abstractmethod
    def all_messages(self) -> list[Message]:
        """Every message in the order it was made (the mailer's)."""

    @abstractmethod
    def language(self, team_id: UUID) -> str:
        """The team's language, else Chinese."""


class Inbox(Projection[InboxView]):
    name = "inbox"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Team.Registered,
            Team.LanguageChosen,
            Team.Approved,
            Team.Rejected,
            Contest.DocumentsCalled,
            Submission.Submitted,
            Submission.ScoreComputed,
            Submission.InferenceFailed,
            Submission.ScoringFailed,
            Results.Opened,
            Results.Published,
            Appeal.Filed,
            Appeal.Ruled,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _registered(self, domain_event: Team.Registered, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_team(event.originator_id, event.contest_id, event.language, tracking)

    @process_event.register
    def _language(self, domain_event: Team.LanguageChosen, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.change_language(event.originator_id, event.language, tracking)

    @process_event.register
    def _approved(self, domain_event: Team.Approved, tracking: Tracking) -> None:
        self._tell(domain_event, tracking, [domain_event.originator_id], APPROVED,
                   reason=domain_event.reason)  # fmt: skip

    @process_event.register
    def _rejected(self, domain_event: Team.Rejected, tracking: Tracking) -> None:
        self._tell(domain_event, tracking, [domain_event.originator_id], REJECTED,
                   reason=domain_event.reason)  # fmt: skip

    @process_event.register
    def _called(self, domain_event: Contest.DocumentsCalled, tracking: Tracking) -> None:
        event: Any = domain_event
        teams = self.view.teams_of(event.originator_id)
        self._tell(event, tracking, teams, DOCUMENTS_CALLED, kinds=list(event.kinds))

    @process_event.register
    def _submitted(self, domain_event: Submission.Submitted, tracking: Tracking) -> None:
        event: Any = domain_event
        subject = Subject(event.originator_id, event.team_id, event.contest_id, event.track)
        self.view.add_subject(subject, tracking)

    @process_event.register
    def _scored(self, domain_event: Submission.ScoreComputed, tracking: Tracking) -> None:
        event: Any = domain_event
        primary = (event.breakdown or {}).get("primary") or {}
        value = primary.get("value")
        self._about_submission(event, tracking, SCORED,
                               metric=primary.get("name"),
                               value=None if value is None else round(float(value), 4),
                               gates_passed=bool(event.gates_passed))  # fmt: skip

    @process_event.register
    def _run_failed(self, domain_event: Submission.InferenceFailed, tracking: Tracking) -> None:
        event: Any = domain_event
        detail = (event.detail or "")[:_DETAIL_SHOWN]
        self._about_submission(event, tracking, RUN_FAILED, reason=event.reason, detail=detail)

    @process_event.register
    def _scoring_failed(self, domain_event: Submission.ScoringFailed, tracking: Tracking) -> None:
        # The platform's own failure: its detail may speak of the hidden truth, so it is not
        # passed on; the team learns that the organisers must act.
        self._about_submission(domain_event, tracking, SCORING_FAILED)

    @process_event.register
    def _results_opened(self, domain_event: Results.Opened, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.add_subject(Subject(event.originator_id, None, event.contest_id), tracking)

    @process_event.register
    def _published(self, domain_event: Results.Published, tracking: Tracking) -> None:
        event: Any = domain_event
        results = self.view.subject(event.originator_id)
        teams = [] if results is None else self.view.teams_in_track(results.contest_id, event.track)
        self._tell(event, tracking, teams, RESULTS_PUBLISHED,
                   track=event.track, number=event.number, mode=event.mode)  # fmt: skip

    @process_event.register
    def _filed(self, domain_event: Appeal.Filed, tracking: Tracking) -> None:
        event: Any = domain_event
        subject = Subject(event.originator_id, event.team_id, event.contest_id, event.track,
                          event.item)  # fmt: skip
        self.view.add_subject(subject, tracking)

    @process_event.register
    def _ruled(self, domain_event: Appeal.Ruled, tracking: Tracking) -> None:
        event: Any = domain_event
        appeal = self.view.subject(event.originator_id)
        teams = [] if appeal is None or appeal.team_id is None else [appeal.team_id]
        track, item = (appeal.track, appeal.item) if appeal else (None, None)
        self._tell(event, tracking, teams, APPEAL_RULED,
                   track=track, item=item, outcome=event.outcome)  # fmt: skip

    def _about_submission(self, event: Any, tracking: Tracking, kind: str, **facts: Any) -> None:
        found = self.view.subject(event.originator_id)
        teams = [] if found is None or found.team_id is None else [found.team_id]
        track = found.track if found else None
        self._tell(event, tracking, teams, kind, track=track, submission=str(event.originator_id),
                   **facts)  # fmt: skip

    def _tell(
        self, event: Any, tracking: Tracking, teams: list[UUID], kind: str, **facts: Any
    ) -> None:
        at = getattr(event, "at", None) or event.timestamp
        messages = [
            Message(message_id(event, team), team, kind, facts, at, tracking.notification_id)
            for team in teams
        ]
        if messages:
            self.view.add_messages(messages, tracking)
        else:
            self.view.skip(tracking)
