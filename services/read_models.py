"""The contest's read models in SQL: tables ``rm_teams`` and ``rm_submissions`` beside the
ledger, with their position in ``listings_tracking``; the view that domain.read_models.Listings
writes, and the reads that listings make.

``open_listings(app)`` gives the projection over any desk's database; ``listings(app)`` also
catches it up to the head, so a CLI read needs no separate process. ``huiyan read-models
rebuild`` (cli/read_models.py) drops and rebuilds them.
"""

from __future__ import annotations

import json
import threading
import weakref
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    select,
    update,
)

from domain.read_models import Listings, ListingsView, SubmissionListing, TeamListing
from domain.submissions import PendingWork
from domain.submissions import Status as SubmissionStatus
from domain.teams import Status as TeamStatus
from ledger.read_models import SQLView, catch_up

TRACKING_TABLE = "listings_tracking"
_ID = BigInteger().with_variant(Integer(), "sqlite")


class SQLListings(SQLView, ListingsView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", TRACKING_TABLE)
        super().__init__(datastore, **kwargs)
        self.team_rows = Table(
            "rm_teams",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),  # the Registered event's notification id
            Column("contest_id", Uuid, nullable=False),
            Column("name", Text, nullable=False),
            Column("status", String(16), nullable=False),
            Column("language", String(16)),
            Column("tracks", Text, nullable=False),  # JSON {track: group}
            Column("evidence", Text, nullable=False),  # JSON [match, ...]
            Column("disqualified", Boolean, nullable=False),
            Index("rm_teams_contest", "contest_id", "seq"),
        )
        self.submission_rows = Table(
            "rm_submissions",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),
            Column("team_id", Uuid, nullable=False),
            Column("contest_id", Uuid, nullable=False),
            Column("track", Integer, nullable=False),
            Column("status", String(16), nullable=False),
            Column("submitted_at", String(40), nullable=False),  # ISO 8601 with its offset
            Column("metric", Text),
            Column("value", Float),
            Column("gates_passed", Boolean),
            Column("efficiency", Float),
            Index("rm_submissions_team", "team_id", "seq"),
            Index("rm_submissions_track", "contest_id", "track", "status"),
            Index("rm_submissions_status", "status", "seq"),
        )
        self._insert_team = self.team_rows.insert()
        self._insert_submission = self.submission_rows.insert()

    # --- writing ----------------------------------------------------------------------------

    def add_team(self, listing: TeamListing, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self._insert_team,
                dict(
                    id=listing.id,
                    seq=tracking.notification_id,
                    contest_id=listing.contest_id,
                    name=listing.name,
                    status=listing.status.value,
                    language=listing.language,
                    tracks=json.dumps(listing.tracks),
                    evidence="[]",
                    disqualified=listing.disqualified,
                ),
            )

    def change_team(self, team_id: UUID, tracking: Tracking, **facts: Any) -> None:
        values = dict(facts)
        if "status" in values:
            values["status"] = TeamStatus(values["status"]).value
        if "tracks" in values:
            values["tracks"] = json.dumps(values["tracks"])
        with self.writing(tracking) as session:
            self.update_row(session, self.team_rows, team_id, values)

    def team_tracks(self, team_id: UUID) -> dict[int, str]:
        with self.transaction(commit=False) as session:
            found = session.execute(
                select(self.team_rows.c.tracks).where(self.team_rows.c.id == team_id)
            ).scalar()
        return _tracks(found or "{}")

    def change_evidence(
        self, team_id: UUID, tracking: Tracking, *, add: list[str], remove: list[str]
    ) -> None:
        with self.writing(tracking) as session:
            found = session.execute(
                select(self.team_rows.c.evidence).where(self.team_rows.c.id == team_id)
            ).scalar()
            matches = [m for m in json.loads(found or "[]") if m not in remove]
            matches += [m for m in add if m not in matches]
            session.execute(
                update(self.team_rows)
                .where(self.team_rows.c.id == team_id)
                .values(evidence=json.dumps(matches), disqualified=bool(matches))
            )

    def add_submission(self, listing: SubmissionListing, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self._insert_submission,
                dict(
                    id=listing.id,
                    seq=tracking.notification_id,
                    team_id=listing.team_id,
                    contest_id=listing.contest_id,
                    track=listing.track,
                    status=listing.status.value,
                    submitted_at=listing.submitted_at.isoformat(),
                    metric=listing.metric,
                    value=listing.value,
                    gates_passed=listing.gates_passed,
                    efficiency=listing.efficiency,
                ),
            )

    def change_submission(self, submission_id: UUID, tracking: Tracking, **facts: Any) -> None:
        values = dict(facts)
        if "status" in values:
            values["status"] = SubmissionStatus(values["status"]).value
        with self.writing(tracking) as session:
            self.update_row(session, self.submission_rows, submission_id, values)

    def skip(self, tracking: Tracking) -> None:
        self.track(tracking)

    # --- reading ----------------------------------------------------------------------------

    def teams(self, contest_id: UUID) -> list[TeamListing]:
        table = self.team_rows
        query = select(table).where(table.c.contest_id == contest_id).order_by(table.c.seq)
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return [
            TeamListing(
                id=row.id,
                contest_id=row.contest_id,
                name=row.name,
                status=TeamStatus(row.status),
                disqualified=bool(row.disqualified),
                language=row.language,
                tracks=_tracks(row.tracks),
            )
            for row in rows
        ]

    def submissions(self, *, team_id: UUID | None = None) -> list[SubmissionListing]:
        table = self.submission_rows
        query = select(table).order_by(table.c.seq)
        if team_id is not None:
            query = query.where(table.c.team_id == team_id)
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return [
            SubmissionListing(
                id=row.id,
                team_id=row.team_id,
                contest_id=row.contest_id,
                track=row.track,
                status=SubmissionStatus(row.status),
                submitted_at=datetime.fromisoformat(row.submitted_at),
                metric=row.metric,
                value=row.value,
                gates_passed=row.gates_passed,
                efficiency=row.efficiency,
            )
            for row in rows
        ]

    def pending_work(self) -> list[PendingWork]:
        table = self.submission_rows
        waiting = {
            SubmissionStatus.SUBMITTED.value: "inference",
            SubmissionStatus.RUNNING.value: "inference",
            SubmissionStatus.INFERRED.value: "scoring",
        }
        query = (
            select(table.c.id, table.c.status)
            .where(table.c.status.in_(list(waiting)))
            .order_by(table.c.seq)
        )
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return [PendingWork(row.id, waiting[row.status]) for row in rows]


def _tracks(text: str) -> dict[int, str]:
    return {int(track): group for track, group in json.loads(text).items()}


def open_listings(app: Application) -> Listings:
    """The listings projection over the database ``app`` writes to, its tables created."""
    view = SQLListings(app.factory.datastore)  # type: ignore[attr-defined]
    view.create_table()
    return Listings(view)


def listings(app: Application) -> SQLListings:
    """The listings, caught up to the ledger's head: read them right after. The projection is
    made once per application (its tables are checked once, not on every read)."""
    with _OPENING:
        projection = _OPENED.get(app)
        if projection is None:
            projection = _OPENED[app] = open_listings(app)
    catch_up(projection, app)
    return projection.view  # type: ignore[return-value]


_OPENING = threading.Lock()
_OPENED: weakref.WeakKeyDictionary[Application, Listings] = weakref.WeakKeyDictionary()
