"""The judging's read models in SQL, beside the ledger and the listings: tables ``rm_reviews``,
``rm_review_experts``, ``rm_corrections``, ``rm_appeals``, ``rm_appeal_arbitrators`` and
``rm_publications``, with their position in ``judging_tracking``; the view that
domain.judging_read_models.JudgingReadModels writes, and the reads of the leaderboard, an
expert's tasks and the appeals.

``read_models(app)`` catches up both projections on the app's database (the listings and these)
and gives :class:`ReadModels`, which also joins them for the standings (a track's reviewed
entries with their submissions' recorded figures). ``huiyan read-models rebuild`` drops and
rebuilds both.
"""

from __future__ import annotations

import json
import threading
import weakref
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    delete,
    select,
)

from domain.appeals import AppealStatus
from domain.judging_read_models import (
    AppealListing,
    JudgingReadModels,
    JudgingView,
    PublicationListing,
    ReviewListing,
)
from domain.results import Results
from ledger.read_models import SQLView, catch_up
from services.read_models import SQLListings, open_listings

TRACKING_TABLE = "judging_tracking"
_ID = BigInteger().with_variant(Integer(), "sqlite")


class SQLJudging(SQLView, JudgingView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", TRACKING_TABLE)
        super().__init__(datastore, **kwargs)
        self.review_rows = Table(
            "rm_reviews",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),  # the Opened event's notification id
            Column("contest_id", Uuid, nullable=False),
            Column("track", Integer, nullable=False),
            Column("team_id", Uuid, nullable=False),
            Column("submission_id", Uuid, nullable=False),
            Column("pseudonym", String(16), nullable=False),
            Column("report", String(16), nullable=False),
            Column("sanitised_sha256", String(64)),
            Column("round", Integer, nullable=False),
            Column("experts", Text, nullable=False),  # JSON [expert, ...], the current round's
            Column("assigned", Integer, nullable=False),  # how many: the standings parse no ids
            Column("sheets", Text, nullable=False),  # JSON {expert: {dimension: grade}}
            Column("reviewers", Text, nullable=False),  # JSON [expert, ...], every round's
            Index("rm_reviews_track", "contest_id", "track", "seq"),
            # a team's results page finds its entry's review (migration 0002)
            Index("rm_reviews_submission", "submission_id"),
        )
        self.review_expert_rows = Table(
            "rm_review_experts",
            self.metadata,
            Column("review_id", Uuid, nullable=False),
            Column("round", Integer, nullable=False),
            Column("expert", Uuid, nullable=False),
            PrimaryKeyConstraint("review_id", "round", "expert"),
            Index("rm_review_experts_expert", "expert", "review_id", "round"),
        )
        self.correction_rows = Table(
            "rm_corrections",
            self.metadata,
            Column("submission_id", Uuid, nullable=False),
            Column("item", String(32), nullable=False),
            Column("value", Text, nullable=False),  # JSON: a number, or true/false for gates
            PrimaryKeyConstraint("submission_id", "item"),
        )
        self.appeal_rows = Table(
            "rm_appeals",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),
            Column("contest_id", Uuid, nullable=False),
            Column("team_id", Uuid, nullable=False),
            Column("track", Integer, nullable=False),
            Column("item", String(32), nullable=False),
            Column("number", Integer, nullable=False),
            Column("submission_id", Uuid, nullable=False),
            Column("filed_at", String(40), nullable=False),  # ISO 8601 with its offset
            Column("evidence", Text, nullable=False),  # JSON [sha256, ...]
            Column("status", String(16), nullable=False),
            Column("waiting", Text),
            Column("arbitrators", Text, nullable=False),  # JSON [arbitrator, ...]
            Column("ruling", Text),  # JSON, as Appeal.ruling
            Column("remedied", Text),  # JSON, as Appeal.remedied
            Index("rm_appeals_contest", "contest_id", "seq"),
            Index("rm_appeals_team", "team_id", "seq"),
        )
        self.arbitrator_rows = Table(
            "rm_appeal_arbitrators",
            self.metadata,
            Column("appeal_id", Uuid, nullable=False),
            Column("arbitrator", Uuid, nullable=False),
            PrimaryKeyConstraint("appeal_id", "arbitrator"),
            Index("rm_appeal_arbitrators_arbitrator", "arbitrator", "appeal_id"),
        )
        self.publication_rows = Table(
            "rm_publications",
            self.metadata,
            Column("results_id", Uuid, nullable=False),  # Results.create_id(contest_id)
            Column("number", Integer, nullable=False),
            Column("track", Integer, nullable=False),
            Column("mode", String(16), nullable=False),
            Column("freeze_at", String(40), nullable=False),
            Column("rules_version", Integer, nullable=False),
            Column("at", String(40), nullable=False),
            PrimaryKeyConstraint("results_id", "number"),
            Index("rm_publications_track", "results_id", "track", "number"),
        )
        # Statements built once: a rebuild runs them tens of thousands of times, and building
        # a statement costs SQLAlchemy more than running it.
        reviews, given = self.review_rows, self.review_expert_rows
        self._review_by_id = select(reviews).where(reviews.c.id == bindparam("ident"))
        self._assignment = select(reviews.c.round, reviews.c.reviewers).where(
            reviews.c.id == bindparam("ident")
        )
        self._sheets = select(reviews.c.sheets).where(reviews.c.id == bindparam("ident"))
        self._insert_review = reviews.insert()
        self._insert_expert = given.insert()
        self._forget_experts = delete(given).where(
            given.c.review_id == bindparam("ident"), given.c.round == bindparam("round_")
        )

    # --- writing ----------------------------------------------------------------------------

    def add_review(self, listing: ReviewListing, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self._insert_review,
                dict(
                    id=listing.id,
                    seq=tracking.notification_id,
                    contest_id=listing.contest_id,
                    track=listing.track,
                    team_id=listing.team_id,
                    submission_id=listing.submission_id,
                    pseudonym=listing.pseudonym,
                    report=listing.report,
                    sanitised_sha256=listing.sanitised_sha256,
                    round=listing.round,
                    experts=_ids(listing.experts),
                    assigned=len(listing.experts),
                    sheets=json.dumps(listing.sheets),
                    reviewers=_ids(sorted(listing.reviewers)),
                ),
            )
            if listing.experts:
                self._replace_experts(session, listing.id, listing.round, listing.experts)

    def change_review(self, review_id: UUID, tracking: Tracking, **facts: Any) -> None:
        values = dict(facts)
        if "experts" in values:
            values["experts"] = _ids(values["experts"])
            values["assigned"] = len(facts["experts"])
        if "sheets" in values:
            values["sheets"] = json.dumps(values["sheets"])
        if "reviewers" in values:
            values["reviewers"] = _ids(sorted(values["reviewers"]))
        table = self.review_rows
        with self.writing(tracking) as session:
            self.update_row(session, table, review_id, values)
            if "experts" in facts:
                round_ = facts.get("round")
                if round_ is None:
                    round_ = session.execute(
                        select(table.c.round).where(table.c.id == review_id)
                    ).scalar_one()
                self._replace_experts(session, review_id, round_, facts["experts"])

    def _replace_experts(self, session: Any, review_id: UUID, round_: int, experts: Any) -> None:
        session.execute(self._forget_experts, {"ident": review_id, "round_": round_})
        if experts:
            session.execute(
                self._insert_expert,
                [{"review_id": review_id, "round": round_, "expert": e} for e in experts],
            )

    def assignment(self, review_id: UUID) -> tuple[int, frozenset[UUID]]:
        with self.transaction(commit=False) as session:
            row = session.execute(self._assignment, {"ident": review_id}).one()
        return row.round, frozenset(_uuids(row.reviewers))

    def sheets(self, review_id: UUID) -> dict[str, dict[str, int]]:
        with self.transaction(commit=False) as session:
            found = session.execute(self._sheets, {"ident": review_id}).scalar_one()
        return json.loads(found)

    def correct_score(self, submission_id: UUID, item: str, value: Any, tracking: Tracking) -> None:
        table = self.correction_rows
        with self.writing(tracking) as session:
            session.execute(
                delete(table).where(
                    and_(table.c.submission_id == submission_id, table.c.item == item)
                )
            )
            session.execute(
                table.insert().values(submission_id=submission_id, item=item, value=_dump(value))
            )

    def add_appeal(self, listing: AppealListing, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self.appeal_rows.insert().values(
                    id=listing.id,
                    seq=tracking.notification_id,
                    contest_id=listing.contest_id,
                    team_id=listing.team_id,
                    track=listing.track,
                    item=listing.item,
                    number=listing.number,
                    submission_id=listing.submission_id,
                    filed_at=listing.filed_at.isoformat(),
                    evidence=json.dumps(listing.evidence),
                    status=AppealStatus(listing.status).value,
                    waiting=listing.waiting,
                    arbitrators=_ids(listing.arbitrators),
                    ruling=None if listing.ruling is None else _dump(listing.ruling),
                    remedied=None if listing.remedied is None else _dump(listing.remedied),
                )
            )
            self._replace_arbitrators(session, listing.id, listing.arbitrators)

    def change_appeal(self, appeal_id: UUID, tracking: Tracking, **facts: Any) -> None:
        values = dict(facts)
        if "status" in values:
            values["status"] = AppealStatus(values["status"]).value
        if "arbitrators" in values:
            values["arbitrators"] = _ids(values["arbitrators"])
        for key in ("ruling", "remedied"):
            if values.get(key) is not None:
                values[key] = _dump(values[key])
        with self.writing(tracking) as session:
            self.update_row(session, self.appeal_rows, appeal_id, values)
            if "arbitrators" in facts:
                self._replace_arbitrators(session, appeal_id, facts["arbitrators"])

    def _replace_arbitrators(self, session: Any, appeal_id: UUID, arbitrators: Any) -> None:
        table = self.arbitrator_rows
        session.execute(delete(table).where(table.c.appeal_id == appeal_id))
        if arbitrators:
            session.execute(
                table.insert(),
                [{"appeal_id": appeal_id, "arbitrator": person} for person in set(arbitrators)],
            )

    def add_publication(self, listing: PublicationListing, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self.publication_rows.insert().values(
                    results_id=listing.results_id,
                    number=listing.number,
                    track=listing.track,
                    mode=listing.mode,
                    freeze_at=listing.freeze_at.isoformat(),
                    rules_version=listing.rules_version,
                    at=listing.at.isoformat(),
                )
            )

    def skip(self, tracking: Tracking) -> None:
        self.track(tracking)

    # --- reading ----------------------------------------------------------------------------

    def review(self, review_id: UUID) -> ReviewListing | None:
        with self.transaction(commit=False) as session:
            row = session.execute(self._review_by_id, {"ident": review_id}).first()
        return None if row is None else _review(row)

    def review_of_submission(self, submission_id: UUID) -> ReviewListing | None:
        """The review of one entry (a team's own results page asks for its entry only)."""
        table = self.review_rows
        with self.transaction(commit=False) as session:
            row = session.execute(
                select(table).where(table.c.submission_id == submission_id)
            ).first()
        return None if row is None else _review(row)

    def reviews(self, contest_id: UUID, track: int | None = None) -> list[ReviewListing]:
        table = self.review_rows
        query = select(table).where(table.c.contest_id == contest_id)
        if track is not None:
            query = query.where(table.c.track == track)
        with self.transaction(commit=False) as session:
            rows = session.execute(query.order_by(table.c.seq)).all()
        return [_review(row) for row in rows]

    def tasks(self, expert_id: UUID, contest_id: UUID | None = None) -> list[ReviewListing]:
        table, given = self.review_rows, self.review_expert_rows
        query = (
            select(table)
            .join(given, and_(given.c.review_id == table.c.id, given.c.round == table.c.round))
            .where(given.c.expert == expert_id)
        )
        if contest_id is not None:
            query = query.where(table.c.contest_id == contest_id)
        with self.transaction(commit=False) as session:
            rows = session.execute(query.order_by(table.c.seq)).all()
        return [_review(row) for row in rows]

    def corrections(self, submission_id: UUID) -> dict[str, Any]:
        table = self.correction_rows
        query = select(table.c.item, table.c.value).where(table.c.submission_id == submission_id)
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return {row.item: _load(row.value) for row in rows}

    def appeal(self, appeal_id: UUID) -> AppealListing | None:
        table = self.appeal_rows
        with self.transaction(commit=False) as session:
            row = session.execute(select(table).where(table.c.id == appeal_id)).first()
        return None if row is None else _appeal(row)

    def appeals(
        self,
        contest_id: UUID,
        *,
        team_id: UUID | None = None,
        arbitrator: UUID | None = None,
    ) -> list[AppealListing]:
        table = self.appeal_rows
        query = select(table).where(table.c.contest_id == contest_id)
        if team_id is not None:
            query = query.where(table.c.team_id == team_id)
        if arbitrator is not None:
            drawn = self.arbitrator_rows
            query = query.join(drawn, drawn.c.appeal_id == table.c.id).where(
                drawn.c.arbitrator == arbitrator
            )
        with self.transaction(commit=False) as session:
            rows = session.execute(query.order_by(table.c.seq)).all()
        return [_appeal(row) for row in rows]

    def publication(self, contest_id: UUID, track: int) -> PublicationListing | None:
        table = self.publication_rows
        query = (
            select(table)
            .where(table.c.results_id == Results.create_id(contest_id), table.c.track == track)
            .order_by(table.c.number.desc())
            .limit(1)
        )
        with self.transaction(commit=False) as session:
            row = session.execute(query).first()
        if row is None:
            return None
        return PublicationListing(
            results_id=row.results_id,
            track=row.track,
            number=row.number,
            mode=row.mode,
            freeze_at=datetime.fromisoformat(row.freeze_at),
            rules_version=row.rules_version,
            at=datetime.fromisoformat(row.at),
        )


def _ids(ids: Any) -> str:
    return json.dumps([str(ident) for ident in ids])


def _uuids(text: str) -> list[UUID]:
    return [UUID(ident) for ident in json.loads(text)]


def _review(row: Any) -> ReviewListing:
    return ReviewListing(
        id=row.id,
        contest_id=row.contest_id,
        track=row.track,
        team_id=row.team_id,
        submission_id=row.submission_id,
        pseudonym=row.pseudonym,
        report=row.report,
        sanitised_sha256=row.sanitised_sha256,
        round=row.round,
        experts=_uuids(row.experts),
        sheets=json.loads(row.sheets),
        reviewers=frozenset(_uuids(row.reviewers)),
    )


def _appeal(row: Any) -> AppealListing:
    return AppealListing(
        id=row.id,
        contest_id=row.contest_id,
        team_id=row.team_id,
        track=row.track,
        item=row.item,
        number=row.number,
        submission_id=row.submission_id,
        filed_at=datetime.fromisoformat(row.filed_at),
        evidence=json.loads(row.evidence),
        status=AppealStatus(row.status),
        waiting=row.waiting,
        arbitrators=_uuids(row.arbitrators),
        ruling=None if row.ruling is None else _load(row.ruling),
        remedied=None if row.remedied is None else _load(row.remedied),
    )


# JSON that brings back the UUIDs and times an event carried (a ruling's arbitrator and time, a
# remedy's detail): tagged, so that the rows read exactly what the aggregate holds.
_UUID, _TIME = "$uuid", "$datetime"


def _tagged(value: Any) -> Any:
    if isinstance(value, UUID):
        return {_UUID: str(value)}
    if isinstance(value, datetime):
        return {_TIME: value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not kept in a judging row")


def _untagged(found: dict[str, Any]) -> Any:
    if len(found) == 1:
        if _UUID in found:
            return UUID(found[_UUID])
        if _TIME in found:
            return datetime.fromisoformat(found[_TIME])
    return found


def _dump(value: Any) -> str:
    return json.dumps(value, default=_tagged)


def _load(text: str) -> Any:
    return json.loads(text, object_hook=_untagged)


# --- the read models together -----------------------------------------------------------------


class EntryRow(NamedTuple):
    """One reviewed entry of a track as the rows hold it: what its standing is computed from
    (services/standings.py), the same facts it would gather from the aggregates. (A named tuple: a
    track's leaderboard makes a thousand of them per read.)"""

    team_id: UUID
    submission_id: UUID
    pseudonym: str
    submitted_at: datetime
    quality: float | None  # the score's primary value (the score that counts: a re-score's)
    efficiency: float | None
    gates_passed: bool
    sheets: list[dict[str, int]]  # the current round's grades (any order: their mean is exact)
    complete: bool  # every expert of the current round has graded
    corrections: dict[str, Any]  # item -> corrected value
    team_name: str | None = None  # shown, never ranked or recorded: the read models fill it


class ReadModels:
    """The listings (teams, submissions) and the judging rows over one app's database. Open
    once per app (:func:`read_models`); each read there catches both up first."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.projections = (open_listings(app), open_judging(app))
        self.listings: SQLListings = self.projections[0].view  # type: ignore[assignment]
        self.judging: SQLJudging = self.projections[1].view  # type: ignore[assignment]

    def catch_up(self) -> ReadModels:
        for projection in self.projections:
            catch_up(projection, self.app)
        return self

    def entries(self, contest_id: UUID, track: int) -> list[EntryRow]:
        """The track's reviewed entries with their submissions' recorded figures, the
        corrections made to them and their teams' names, in the order the reviews were opened
        (a query, and one for the corrections)."""
        reviews, submissions = self.judging.review_rows, self.listings.submission_rows
        corrected, teams = self.judging.correction_rows, self.listings.team_rows
        query = (
            select(
                reviews.c.team_id,
                reviews.c.submission_id,
                reviews.c.pseudonym,
                reviews.c.assigned,
                reviews.c.sheets,
                submissions.c.submitted_at,
                submissions.c.value,
                submissions.c.efficiency,
                submissions.c.gates_passed,
                teams.c.name,
            )
            .join(submissions, submissions.c.id == reviews.c.submission_id)
            .outerjoin(teams, teams.c.id == reviews.c.team_id)
            .where(reviews.c.contest_id == contest_id, reviews.c.track == track)
            .order_by(reviews.c.seq)
        )
        corrections_query = (
            select(corrected.c.submission_id, corrected.c.item, corrected.c.value)
            .join(reviews, reviews.c.submission_id == corrected.c.submission_id)
            .where(reviews.c.contest_id == contest_id, reviews.c.track == track)
        )
        with self.judging.transaction(commit=False) as session:
            rows = session.execute(query).all()
            corrections: dict[UUID, dict[str, Any]] = {}
            for found in session.execute(corrections_query):
                corrections.setdefault(found.submission_id, {})[found.item] = _load(found.value)
        entries = []
        for team, submission, pseudonym, assigned, text, at, value, efficiency, gates, name in rows:
            sheets = json.loads(text)
            entries.append(
                EntryRow(
                    team, submission, pseudonym, datetime.fromisoformat(at), value, efficiency,
                    bool(gates), list(sheets.values()), bool(assigned) and len(sheets) == assigned,
                    corrections.get(submission, {}) if corrections else {}, name,
                )
            )  # fmt: skip
        return entries

    def team_names(self, contest_id: UUID) -> dict[UUID, str]:
        """Each team's name in the contest (names are shown, never recorded in standings)."""
        table = self.listings.team_rows
        query = select(table.c.id, table.c.name).where(table.c.contest_id == contest_id)
        with self.listings.transaction(commit=False) as session:
            return {row.id: row.name for row in session.execute(query)}


def open_judging(app: Application) -> JudgingReadModels:
    """The judging projection over the database ``app`` writes to, its tables created."""
    view = SQLJudging(app.factory.datastore)  # type: ignore[attr-defined]
    view.create_table()
    return JudgingReadModels(view)


_OPENED: weakref.WeakKeyDictionary[Application, ReadModels] = weakref.WeakKeyDictionary()


def read_models(app: Application) -> ReadModels:
    """The listings and the judging rows, caught up to the ledger's head: read them right
    after."""
    with _OPENING:
        found = _OPENED.get(app)
        if found is None:
            found = _OPENED[app] = ReadModels(app)
    return found.catch_up()


_OPENING = threading.Lock()
