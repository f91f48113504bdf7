"""The judging's read models (reviews, corrections, appeals, publications) kept by the library's
projection machinery on the real ledger, SQLite and PostgreSQL: each handler does to its row
what the aggregate's event does to it, a judging history's rows equal its aggregates, the
standings from the rows equal the standings from the aggregates, a crash mid-page resumes, and
a rebuild of every read model from zero gives the same rows."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking
from helpers import ORGANISER
from ledger_scenario import settings_for
from sqlalchemy import select
from test_submissions import BREAKDOWN, completed, open_contest, scored, submit
from test_submissions import approved_team as team_of

from domain.appeals import Appeal, AppealStatus
from domain.judging import Judging
from domain.judging_read_models import (
    CLEAN,
    HELD,
    UNCHECKED,
    JudgingReadModels,
    appeal_listing,
    corrections_of,
    publication_listing,
    review_listing,
)
from domain.results import Results
from domain.review import PseudonymClaim, Review
from domain.submissions import Submissions, score_view
from domain.time import SHANGHAI
from ledger.application import open_application
from ledger.read_models import LOG_NAME, catch_up, rebuild
from scoring.rules import load_rules
from services import standings
from services.judging_read_models import SQLJudging, open_judging, read_models

RULES = load_rules()
DIMENSIONS = RULES.expert_rubric.dimensions
JUDGING_DAY = datetime(2026, 10, 3, 9, tzinfo=SHANGHAI)
BY = ORGANISER.account_id
ITEMS = ("quality", "efficiency", "expert", "gates")
REMEDIES = ("rescore", "rereview", "correct")


def sheet(grade: int, **changes: int) -> dict[str, int]:
    return {**dict.fromkeys(DIMENSIONS, grade), **changes}


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def desks(url, tmp_path) -> tuple[Submissions, Judging]:
    settings = settings_for(tmp_path, url)
    return open_application(Submissions, settings), open_application(Judging, settings)


# --- a judging history -----------------------------------------------------------------------


@dataclass
class History:
    """A track's review with every kind of judging event: reports unchecked, held, replaced
    and clean; assignments, sheets, a re-review; appeals waiting, drawn, dismissed and upheld
    with each remedy (a correction, a re-score, a re-review); two publications."""

    desk: Submissions
    judging: Judging
    contest_id: UUID
    teams: list[UUID] = field(default_factory=list)
    submissions: dict[UUID, UUID] = field(default_factory=dict)  # team -> its track 1 entry
    reviews: list[UUID] = field(default_factory=list)  # in the order opened
    appeals: list[UUID] = field(default_factory=list)  # in the order filed
    experts: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(7)])
    arbitrators: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(3)])
    clock: Any = field(
        default_factory=lambda: (JUDGING_DAY + timedelta(minutes=n) for n in count())
    )

    def now(self) -> datetime:
        return next(self.clock)

    def open_review(self, team_id: UUID, *, track: int = 1, submission_id: UUID | None = None):
        pseudonym = f"T{track}-{len(self.reviews) + 1:04X}"
        review = Review.open(
            contest_id=self.contest_id, track=track, team_id=team_id,
            submission_id=submission_id or self.submissions[team_id], pseudonym=pseudonym,
            by=BY, now=self.now(),
        )  # fmt: skip
        claim = PseudonymClaim(contest_id=self.contest_id, pseudonym=pseudonym, review_id=review.id)
        self.judging.save(review, claim)
        self.reviews.append(review.id)
        return review.id

    def change_review(self, review_id: UUID, change) -> Review:
        review = self.judging.review(review_id)
        change(review)
        self.judging.save(review)
        return review

    def check(self, review_id: UUID, *, held: bool = False) -> None:
        report = self.judging.submission(self.judging.review(review_id).submission_id)
        self.change_review(
            review_id,
            lambda r: r.check_report(
                source_sha256=report.report_sha256, sanitised_sha256="5" * 64,
                hit_kinds=["team name"] if held else [], now=self.now(),
            ),
        )  # fmt: skip

    def assign(self, review_id: UUID, experts: list[UUID]) -> None:
        self.change_review(review_id, lambda r: r.assign(experts, now=self.now()))

    def grade(self, review_id: UUID, expert: UUID, grades: dict[str, int]) -> None:
        self.change_review(
            review_id,
            lambda r: r.score(
                expert=expert, grades=grades, dimensions=DIMENSIONS,
                levels=sorted(RULES.expert_rubric.grades), now=self.now(),
            ),
        )  # fmt: skip

    def file(self, team_id: UUID, item: str) -> Appeal:
        number = 1 + sum(
            1 for a in self.appeals if (self.judging.appeal(a).team_id, self.judging.appeal(a).item)
            == (team_id, item)
        )  # fmt: skip
        appeal = Appeal.file(
            contest_id=self.contest_id, team_id=team_id, track=1,
            submission_id=self.submissions[team_id], item=item, number=number,
            reasons_sha256="c" * 64, evidence=["f" * 64], items=ITEMS,
            closes=JUDGING_DAY + timedelta(days=30), by=BY, now=self.now(),
        )  # fmt: skip
        self.judging.save(appeal)
        self.appeals.append(appeal.id)
        return appeal

    def rule(self, appeal: Appeal, outcome: str, remedy: dict[str, Any] | None) -> None:
        appeal.rule(
            arbitrator=appeal.arbitrators[0], outcome=outcome, remedy=remedy,
            reasons_sha256="d" * 64, remedies=REMEDIES, now=self.now(),
        )  # fmt: skip

    def publish(self, track: int, mode: str) -> None:
        results = self.judging.results(self.contest_id)
        lines = standings.recorded(self.judging, self.contest_id, track, RULES)
        results.publish(
            track=track, mode=mode, freeze_at=self.now(), standings=[s.record() for s in lines],
            rules_version=1, by=BY, now=self.now(),
        )  # fmt: skip
        self.judging.save(results)


def entry(desk: Submissions, team_id: UUID, value: float, **score: Any) -> UUID:
    found = submit(desk, team_id, JUDGING_DAY - timedelta(days=40) + timedelta(hours=value))
    completed(desk, found)
    scored(
        desk, found, breakdown={**BREAKDOWN, "primary": {"name": "cpm", "value": value}}, **score
    )
    return found


def play(desk: Submissions, judging: Judging) -> History:
    contest_id = open_contest(desk, per_day=9, total=20)
    history = History(desk, judging, contest_id)
    e, arbitrators = history.experts, history.arbitrators
    for name, value, score in (
        ("a", 0.5, {}),
        ("b", 0.625, {}),
        ("c", 0.75, {"efficiency": 0.25}),
        ("d", 0.875, {"gates_passed": False}),
    ):
        team = team_of(desk, contest_id, f"{name}1", f"{name}2")
        history.teams.append(team)
        history.submissions[team] = entry(desk, team, value, **score)
    a, b, c, d = history.teams

    first = history.open_review(a)  # complete: three sheets
    history.check(first)
    history.assign(first, e[0:3])
    for expert, grade in zip(e[0:3], (4, 3, 5), strict=True):
        history.grade(first, expert, sheet(grade, innovation=2))

    held = history.open_review(b)  # held, replaced, clean; two sheets of three
    history.check(held, held=True)
    submission = desk.submission(history.submissions[b])
    submission.replace_report("9" * 64, now=history.now())
    desk.save(submission)
    history.check(held)
    history.assign(held, e[3:6])
    history.grade(held, e[3], sheet(3))
    history.grade(held, e[4], sheet(2))

    reopened = history.open_review(c)  # complete, then re-reviewed by others after an appeal
    history.check(reopened)
    history.assign(reopened, [e[0], e[3], e[6]])
    for expert in (e[0], e[3], e[6]):
        history.grade(reopened, expert, sheet(1))

    gated = history.open_review(d)  # complete, failed a gate: unranked until corrected
    history.check(gated)
    history.assign(gated, [e[2], e[5], e[6]])
    for expert in (e[2], e[5], e[6]):
        history.grade(gated, expert, sheet(5))

    history.open_review(a, track=7)  # another track, still unchecked

    history.publish(1, "full")

    dismissed = history.file(a, "expert")
    dismissed.draw([arbitrators[0]], now=history.now())
    history.rule(dismissed, "dismissed", None)
    judging.save(dismissed)

    corrected = history.file(c, "quality")
    corrected.draw([arbitrators[1]], now=history.now())
    history.rule(corrected, "upheld", {"kind": "correct", "value": 0.95})
    submission = judging.submission(history.submissions[c])
    submission.correct_score(appeal_id=corrected.id, item="quality", value=0.95,
                             reasons_sha256="d" * 64, now=history.now())  # fmt: skip
    corrected.record_remedy("correct", detail={"submission": submission.id}, now=history.now())
    judging.save(corrected, submission)

    rereview = history.file(c, "expert")
    rereview.wait("no arbitrator is enrolled", now=history.now())
    judging.save(rereview)
    rereview.draw([arbitrators[2]], now=history.now())
    history.rule(rereview, "upheld", {"kind": "rereview"})
    review = judging.review(reopened)
    review.reopen(appeal_id=rereview.id, now=history.now())
    rereview.record_remedy(
        "rereview", detail={"round": review.current["number"]}, now=history.now()
    )
    judging.save(rereview, review)
    history.assign(reopened, [e[1], e[4]])
    history.grade(reopened, e[1], sheet(4))
    history.grade(reopened, e[4], sheet(5, uniqueness=3))

    gate = history.file(d, "gates")
    gate.draw([arbitrators[0]], now=history.now())
    history.rule(gate, "upheld", {"kind": "correct", "value": True})
    submission = judging.submission(history.submissions[d])
    submission.correct_score(appeal_id=gate.id, item="gates", value=True,
                             reasons_sha256="d" * 64, now=history.now())  # fmt: skip
    gate.record_remedy("correct", detail={"submission": submission.id}, now=history.now())
    judging.save(gate, submission)

    rescore = history.file(d, "efficiency")
    rescore.draw([arbitrators[1]], now=history.now())
    history.rule(rescore, "upheld", {"kind": "rescore", "rules_version": 1})
    judging.save(rescore)
    submission = judging.submission(history.submissions[d])
    rescore.record_remedy("rescore", detail={"rules_version": 1}, now=history.now())
    old = submission.score
    submission.supersede_score(
        appeal_id=rescore.id, now=history.now(), job_id="appeal", breakdown=old["breakdown"],
        breakdown_sha256=None, rules_version=1, rules_sha256=old["rules_sha256"],
        predictions_sha256=old["predictions_sha256"], truth_sha256=old["truth_sha256"],
        scoring_version="huiyan 0.2", gates_passed=False, efficiency=0.5,
    )  # fmt: skip
    judging.save(rescore, submission)

    waiting = history.file(b, "quality")  # still waiting for an arbitrator
    waiting.wait("none of the 3 enrolled arbitrators is independent", now=history.now())
    judging.save(waiting)

    history.publish(1, "ranks")
    history.publish(7, "hidden")
    return history


# --- what the rows should read ---------------------------------------------------------------


def expected(history: History) -> dict[str, Any]:
    judging, contest_id = history.judging, history.contest_id
    reviews = [review_listing(judging.review(ident)) for ident in history.reviews]
    appeals = [appeal_listing(judging.appeal(ident)) for ident in history.appeals]
    results = judging.results(contest_id)
    return {
        "reviews": reviews,
        "track 1": [r for r in reviews if r.track == 1],
        "tasks": {
            expert: [r.id for r in reviews if expert in r.experts] for expert in history.experts
        },
        "corrections": {
            ident: corrections_of(judging.submission(ident))
            for ident in history.submissions.values()
        },
        "appeals": appeals,
        "by team": {team: [a for a in appeals if a.team_id == team] for team in history.teams},
        "by arbitrator": {
            person: [a for a in appeals if person in a.arbitrators]
            for person in history.arbitrators
        },
        "publications": {track: publication_listing(results, track) for track in (1, 7)},
    }


def rows(view: SQLJudging, history: History) -> dict[str, Any]:
    contest_id = history.contest_id
    return {
        "reviews": view.reviews(contest_id),
        "track 1": view.reviews(contest_id, 1),
        "tasks": {
            expert: [r.id for r in view.tasks(expert, contest_id)] for expert in history.experts
        },
        "corrections": {ident: view.corrections(ident) for ident in history.submissions.values()},
        "appeals": view.appeals(contest_id),
        "by team": {team: view.appeals(contest_id, team_id=team) for team in history.teams},
        "by arbitrator": {
            person: view.appeals(contest_id, arbitrator=person) for person in history.arbitrators
        },
        "publications": {track: view.publication(contest_id, track) for track in (1, 7)},
    }


def every_row(app) -> dict[str, list[tuple]]:
    """Every row of every read model's tables, ordered, and each tracked position."""
    found: dict[str, list[tuple]] = {}
    for projection in read_models(app).projections:
        view = projection.view
        tables = [*view.metadata.sorted_tables, view.tracking_table]
        with view.transaction(commit=False) as session:
            for table in tables:
                query = select(table).order_by(*table.primary_key.columns)
                found[table.name] = [tuple(row) for row in session.execute(query)]
    return found


@pytest.fixture
def history(desks) -> History:
    return play(*desks)


def test_a_judging_historys_rows_equal_its_aggregates(history):
    view = read_models(history.judging).judging
    assert rows(view, history) == expected(history)
    reviews = {r.id: r for r in view.reviews(history.contest_id)}
    first, held, reopened, _, other = (reviews[ident] for ident in history.reviews)
    assert (first.report, held.report, other.report) == (CLEAN, CLEAN, UNCHECKED)
    assert first.complete and not held.complete and reopened.complete
    assert reopened.round == 2 and len(reopened.reviewers) == 5
    assert reopened.experts == history.experts[1:5:3]
    statuses = [a.status for a in view.appeals(history.contest_id)]
    assert statuses == [AppealStatus.DISMISSED, *[AppealStatus.REMEDIED] * 4, AppealStatus.WAITING]
    assert view.publication(history.contest_id, 1).number == 2


def test_the_standings_from_the_rows_are_the_standings_from_the_aggregates(history):
    judging, contest_id = history.judging, history.contest_id
    lines = standings.preliminary(judging, contest_id, 1, RULES)
    assert lines == standings.recorded(judging, contest_id, 1, RULES)
    a, b, c, d = history.teams
    by_team = {line.team_id: line for line in lines}
    assert by_team[c].corrected == ("quality",) and by_team[c].quality == 0.95
    assert by_team[c].expert == pytest.approx((0.8 + 0.9) / 2)  # the new round only
    assert by_team[d].gates_passed and by_team[d].efficiency == 0.5  # corrected, re-scored
    assert by_team[d].corrected == ("gates",) and by_team[d].rank is not None
    assert by_team[b].rank is None and by_team[b].expert is None  # two sheets of three
    (unchecked,) = standings.preliminary(judging, contest_id, 7, RULES)
    assert unchecked.rank is None and unchecked.expert is None


def old_leaderboard(judging: Judging, contest_id: UUID, track: int) -> dict[str, Any]:
    """``results leaderboard`` as it read the aggregates before the read models."""
    published = judging.results(contest_id).latest(track)
    if published is None or published["mode"] == "hidden":
        return {"track": track, "mode": "hidden" if published else None, "lines": []}
    lines = []
    for line in standings.recorded(judging, contest_id, track, RULES):
        submitted = judging.submission(line.submission_id).submitted_at
        if line.rank is None or submitted > published["freeze_at"]:
            continue
        shown: dict[str, Any] = {"rank": line.rank, "team": judging.team(line.team_id).name}
        if published["mode"] == "full":
            shown |= {k: getattr(line, k) for k in ("composite", "quality", "efficiency", "expert")}
        lines.append(shown)
    return {"track": track, "mode": published["mode"], "publication": published["number"],
            "lines": lines}  # fmt: skip


def old_team_results(judging: Judging, contest_id: UUID, track: int, team_id: UUID):
    """``results mine`` as it read the aggregates before the read models."""
    found = standings.recorded(judging, contest_id, track, RULES)
    line = next((s for s in found if s.team_id == team_id), None)
    if line is None:
        return {"track": track, "entry": None}
    submission = judging.submission(line.submission_id)
    published = judging.results(contest_id).latest(track)
    return {
        "track": track,
        "submission": line.submission_id,
        "composite": line.composite if published else None,
        "rank": line.rank if published else None,
        "quality": line.quality,
        "efficiency": line.efficiency,
        "expert": line.expert if published else None,
        "gates_passed": line.gates_passed,
        "corrected": list(line.corrected),
        "score": score_view(submission.score),
        "superseded": len(submission.superseded_scores),
    }


def test_the_leaderboard_and_a_teams_results_read_as_they_did_from_the_aggregates(history):
    judging, contest_id = history.judging, history.contest_id
    for track in (1, 7):
        board = standings.leaderboard(judging, contest_id, track, RULES)
        assert board == old_leaderboard(judging, contest_id, track)
        for team in history.teams:
            found = standings.team_results(judging, contest_id, track, team, RULES)
            assert found == old_team_results(judging, contest_id, track, team)
    board = standings.leaderboard(judging, contest_id, 1, RULES)
    assert board["mode"] == "ranks" and board["publication"] == 2
    assert [line["team"] for line in board["lines"]][:1] == ["d1-d2"]  # corrected gates
    mine = standings.team_results(judging, contest_id, 1, history.teams[3], RULES)
    assert mine["superseded"] == 1 and mine["score"]["scoring_version"] == "huiyan 0.2"


# --- each handler, one event at a time -------------------------------------------------------


@pytest.fixture
def fed(desks):
    """A projection fed the events of aggregates directly (no ledger in between), and a
    helper that feeds an aggregate's pending events and returns the aggregate."""
    _, judging = desks
    projection = open_judging(judging)
    position = count(1)

    def feed(*aggregates):
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                projection.process_event(event, _tracking(next(position)))
        return aggregates[0]

    return projection.view, feed


def _tracking(position: int) -> Tracking:
    return Tracking(LOG_NAME, position)


CONTEST, TEAM, SUBMISSION = uuid4(), uuid4(), uuid4()


def new_review(feed) -> Review:
    return feed(Review.open(contest_id=CONTEST, track=3, team_id=TEAM, submission_id=SUBMISSION,
                            pseudonym="T3-00AB", by=BY, now=JUDGING_DAY))  # fmt: skip


def test_opened_lists_the_entry_unchecked_in_round_one(fed):
    view, feed = fed
    review = new_review(feed)
    found = view.review(review.id)
    assert found == review_listing(review)
    assert (found.report, found.round, found.experts, found.sheets) == (UNCHECKED, 1, [], {})
    assert view.max_tracking_id(LOG_NAME) == 1


@pytest.mark.parametrize(("hits", "state"), [([], CLEAN), (["team name"], HELD)])
def test_a_checked_report_is_clean_with_its_copy_or_held(fed, hits, state):
    view, feed = fed
    review = new_review(feed)
    review.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64, hit_kinds=hits,
                        now=JUDGING_DAY)  # fmt: skip
    feed(review)
    assert view.review(review.id) == review_listing(review)
    assert view.review(review.id).report == state


def test_assigned_experts_are_the_rounds_and_find_their_tasks(fed):
    view, feed = fed
    review = new_review(feed)
    review.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64, hit_kinds=[],
                        now=JUDGING_DAY)  # fmt: skip
    experts = [uuid4(), uuid4()]
    review.assign(experts, now=JUDGING_DAY)
    feed(review)
    assert view.review(review.id) == review_listing(review)
    assert [r.id for r in view.tasks(experts[1])] == [review.id]
    assert view.tasks(experts[1], CONTEST) == view.tasks(experts[1])
    assert view.tasks(experts[1], uuid4()) == [] and view.tasks(uuid4()) == []


def test_a_sheet_is_the_current_rounds(fed):
    view, feed = fed
    review = new_review(feed)
    review.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64, hit_kinds=[],
                        now=JUDGING_DAY)  # fmt: skip
    experts = [uuid4(), uuid4()]
    review.assign(experts, now=JUDGING_DAY)
    for expert, grade in zip(reversed(experts), (2, 5), strict=True):
        review.score(expert=expert, grades=sheet(grade), dimensions=DIMENSIONS,
                     levels=range(6), now=JUDGING_DAY)  # fmt: skip
    feed(review)
    found = view.review(review.id)
    assert found == review_listing(review) and found.complete
    assert found.grades == review.sheets == [sheet(5), sheet(2)]  # the experts' order


def test_reopened_is_an_empty_round_the_reviewers_stay_and_old_tasks_go(fed):
    view, feed = fed
    review = new_review(feed)
    review.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64, hit_kinds=[],
                        now=JUDGING_DAY)  # fmt: skip
    first, second = uuid4(), uuid4()
    review.assign([first], now=JUDGING_DAY)
    review.score(expert=first, grades=sheet(3), dimensions=DIMENSIONS, levels=range(6),
                 now=JUDGING_DAY)  # fmt: skip
    review.reopen(appeal_id=uuid4(), now=JUDGING_DAY)
    feed(review)
    found = view.review(review.id)
    assert found == review_listing(review)
    assert (found.round, found.experts, found.sheets, found.complete) == (2, [], {}, False)
    assert found.reviewers == {first} and view.tasks(first) == []
    review.assign([second], now=JUDGING_DAY)
    feed(review)
    assert view.review(review.id).reviewers == {first, second} == review.reviewers
    assert [r.id for r in view.tasks(second)] == [review.id] and view.tasks(first) == []


def test_a_correction_overrides_its_item_only(desks, fed):
    desk, _ = desks
    view, feed = fed
    contest_id = open_contest(desk)
    team = team_of(desk, contest_id, "a1", "a2")
    submission = desk.submission(entry(desk, team, 0.5))
    for item, value in (("quality", 0.25), ("gates", False), ("quality", 0.75)):
        submission.correct_score(appeal_id=uuid4(), item=item, value=value,
                                 reasons_sha256="d" * 64, now=JUDGING_DAY)  # fmt: skip
    feed(submission)
    assert view.corrections(submission.id) == corrections_of(submission)
    assert view.corrections(submission.id) == {"quality": 0.75, "gates": False}
    assert view.corrections(uuid4()) == {}


def new_appeal(feed) -> Appeal:
    return feed(Appeal.file(contest_id=CONTEST, team_id=TEAM, track=3, submission_id=SUBMISSION,
                            item="quality", number=1, reasons_sha256="c" * 64, evidence=[],
                            items=ITEMS, closes=JUDGING_DAY, by=BY, now=JUDGING_DAY))  # fmt: skip


def test_a_filed_appeal_waits_then_is_drawn(fed):
    view, feed = fed
    appeal = new_appeal(feed)
    assert view.appeal(appeal.id) == appeal_listing(appeal)
    appeal.wait("no arbitrator is enrolled", now=JUDGING_DAY)
    feed(appeal)
    assert view.appeal(appeal.id) == appeal_listing(appeal)
    assert view.appeal(appeal.id).status is AppealStatus.WAITING
    arbitrators = [uuid4(), uuid4()]
    appeal.draw(arbitrators, now=JUDGING_DAY)
    feed(appeal)
    found = view.appeal(appeal.id)
    assert found == appeal_listing(appeal) and found.waiting is None
    assert view.appeals(CONTEST, arbitrator=arbitrators[1]) == [found]
    assert view.appeals(CONTEST, team_id=TEAM) == [found] == view.appeals(CONTEST)
    assert view.appeals(CONTEST, team_id=uuid4()) == [] == view.appeals(uuid4())


@pytest.mark.parametrize(
    ("outcome", "remedy", "detail"),
    [
        ("dismissed", None, None),
        ("upheld", {"kind": "correct", "value": 0.5}, {"submission": SUBMISSION}),
        ("upheld", {"kind": "rereview"}, {"round": 2}),
        ("upheld", {"kind": "rescore", "rules_version": 2}, {"rules_version": 2}),
    ],
)
def test_a_ruling_and_its_remedy_read_as_the_appeal_holds_them(fed, outcome, remedy, detail):
    view, feed = fed
    appeal = new_appeal(feed)
    appeal.draw([uuid4()], now=JUDGING_DAY)
    appeal.rule(arbitrator=appeal.arbitrators[0], outcome=outcome, remedy=remedy,
                reasons_sha256="d" * 64, remedies=REMEDIES, now=JUDGING_DAY)  # fmt: skip
    feed(appeal)
    assert view.appeal(appeal.id) == appeal_listing(appeal)
    if remedy is not None:
        appeal.record_remedy(remedy["kind"], detail=detail, now=JUDGING_DAY)
        feed(appeal)
        assert view.appeal(appeal.id) == appeal_listing(appeal)
        assert view.appeal(appeal.id).status is AppealStatus.REMEDIED


def test_a_publication_is_the_tracks_latest(fed):
    view, feed = fed
    results = Results(contest_id=CONTEST)
    for track, mode in ((3, "full"), (5, "hidden"), (3, "ranks")):
        results.publish(track=track, mode=mode, freeze_at=JUDGING_DAY, standings=[],
                        rules_version=1, by=BY, now=JUDGING_DAY)  # fmt: skip
    feed(results)
    for track in (3, 5, 6):
        assert view.publication(CONTEST, track) == publication_listing(results, track)
    assert view.publication(CONTEST, 3).number == 3
    assert view.publication(uuid4(), 3) is None


def test_an_event_it_keeps_nothing_of_only_moves_the_position(fed):
    view, feed = fed
    feed(PseudonymClaim(contest_id=CONTEST, pseudonym="T3-00AB", review_id=uuid4()))
    assert view.max_tracking_id(LOG_NAME) == 1
    assert view.reviews(CONTEST) == []


# --- the ledger: catching up, crashing, rebuilding --------------------------------------------


def test_new_events_are_read_on_the_next_catch_up_only_once(history):
    projection = open_judging(history.judging)
    assert catch_up(projection, history.judging) > 0
    assert catch_up(projection, history.judging) == 0
    history.grade(history.reviews[1], history.experts[5], sheet(4))  # completes the review
    assert catch_up(projection, history.judging) == 1
    assert rows(projection.view, history) == expected(history)


class Crash(Exception):
    pass


def test_a_crash_mid_page_resumes_without_double_rows(history):
    judging = history.judging
    projection = open_judging(judging)
    total = catch_up(projection, judging)
    projection.view.drop()
    projection.view.create_table()

    class Crashing(JudgingReadModels):
        seen = 0

        def process_event(self, domain_event, tracking):
            if self.seen == 7:
                raise Crash()
            self.seen += 1
            super().process_event(domain_event, tracking)

    with pytest.raises(Crash):
        catch_up(Crashing(projection.view), judging, page=3)  # two pages in; the third dies
    assert catch_up(projection, judging, page=3) == total - 6
    assert rows(projection.view, history) == expected(history)


def test_rebuilding_every_read_model_from_zero_gives_the_same_rows(history):
    judging = history.judging
    before = every_row(judging)
    assert before["rm_corrections"] and before["rm_publications"]  # the history has them all
    models = read_models(judging)
    for projection in models.projections:
        processed, seconds = rebuild(projection, judging)
        assert processed > 0 and seconds > 0
    assert every_row(judging) == before
    assert rows(models.judging, history) == expected(history)
    lines = standings.preliminary(judging, history.contest_id, 1, RULES)
    assert lines == standings.recorded(judging, history.contest_id, 1, RULES)


def test_the_operator_rebuilds_the_judging_rows_too(history, tmp_path):
    from click.testing import CliRunner

    from cli.read_models import read_models as command

    judging = history.judging
    before = every_row(judging)
    read_models(judging).judging.forget(LOG_NAME)  # a lost position: a catch-up would double
    engine = judging.factory.datastore.engine
    env = {
        "HUIYAN_HOME": str(tmp_path),
        "HUIYAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    result = CliRunner().invoke(command, ["rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert "the listings" in result.output and "the judging rows" in result.output
    assert every_row(judging) == before


def test_the_memo_of_ranked_lines_follows_every_new_fact_and_the_rules(history):
    """The leaderboard's ranked lines are kept between reads (services/standings_memo.py): a read
    after a new event, or under other rules, ranks afresh; an operator's rebuild forgets them."""
    judging, contest_id = history.judging, history.contest_id
    first = standings.preliminary(judging, contest_id, 1, RULES)
    assert standings.preliminary(judging, contest_id, 1, RULES) == first  # from the memo
    a = history.teams[0]
    submission = judging.submission(history.submissions[a])
    submission.correct_score(appeal_id=uuid4(), item="quality", value=0.01,
                             reasons_sha256="e" * 64, now=history.now())  # fmt: skip
    judging.save(submission)
    after = {line.team_id: line for line in standings.preliminary(judging, contest_id, 1, RULES)}
    assert after[a].quality == 0.01 and after[a].corrected == ("quality",)
    assert after == {
        line.team_id: line for line in standings.recorded(judging, contest_id, 1, RULES)
    }
    other_rules = dataclasses.replace(RULES, sha256="0" * 64, weights={
        "quality": 0.0, "efficiency": 0.0, "expert": 1.0})  # fmt: skip
    reweighed = standings.preliminary(judging, contest_id, 1, other_rules)
    ranked = [line for line in reweighed if line.composite is not None]
    assert ranked and all(line.composite == pytest.approx(line.expert) for line in ranked)


def test_the_audit_finds_an_edited_row_by_rebuilding_beside_the_live_rows(history, url):
    """``huiyan audit rebuild``: a rebuild from the log into a fresh database equals the live
    read models; a row edited with SQL, one deleted and one added are each named."""
    from audit.rebuild_check import compare_read_models

    judging = history.judging
    read_models(judging)
    assert compare_read_models(judging) == []
    engine = judging.factory.datastore.engine
    a, b = history.teams[:2]
    with engine.begin() as conn:
        teams = read_models(judging).listings.team_rows
        conn.execute(teams.update().where(teams.c.id == a).values(name="篡改"))
        conn.execute(teams.delete().where(teams.c.id == b))
    found = compare_read_models(judging)
    assert any(line.startswith(f"listings: rm_teams ({a}): name") for line in found), found
    assert any(f"rm_teams ({b}): missing" in line for line in found), found
    assert len(found) == 2


def test_the_audit_finds_an_edited_kept_ranking(history):
    """The leaderboard's kept ranking (rm_standings_memo) edited with SQL to swap two ranks,
    its key left current so that reads would show it: ``audit rebuild`` names it."""
    from audit.rebuild_check import compare_read_models

    judging, contest_id = history.judging, history.contest_id
    shown = standings.preliminary(judging, contest_id, 1, RULES)
    assert compare_read_models(judging, lambda _: RULES) == []
    memo = standings._memo(judging)
    [(_, track, _, lines)] = [row for row in memo.rows() if row[0] == contest_id]
    ranked = [line for line in lines if line["rank"] is not None]
    assert len(ranked) >= 2
    ranked[0]["rank"], ranked[1]["rank"] = ranked[1]["rank"], ranked[0]["rank"]
    with memo.engine.begin() as conn:
        conn.execute(memo.table.update().where(memo.table.c.track == track)
                     .values(lines=json.dumps(lines)))  # fmt: skip
    assert standings.preliminary(judging, contest_id, 1, RULES) != shown  # a read shows the edit
    found = compare_read_models(judging, lambda _: RULES)
    assert found == [
        f"standings memo: contest {contest_id} track 1: the kept ranking is not what the read "
        "models rank"
    ]
