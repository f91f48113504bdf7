"""The judging aggregates' own rules (domain/review.py, appeals.py, results.py,
final_round.py) and the independence of the arbitrators' draw, on plain aggregates."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from helpers import EARLY
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import errors
from domain.appeals import Appeal, AppealStatus, check_remedy, eligible_arbitrators
from domain.final_round import FinalRound
from domain.results import Results
from domain.review import Candidate, Review, assign_experts, draw_order

DIMENSIONS = ("innovation", "reliability", "technical_soundness", "uniqueness")
LEVELS = (0, 1, 2, 3, 4, 5)
GRADES = dict.fromkeys(DIMENSIONS, 4)
CONTEST, TEAM, SUBMISSION = uuid4(), uuid4(), uuid4()
ORGANISER = uuid4()


def review(track: int = 1) -> Review:
    return Review.open(contest_id=CONTEST, track=track, team_id=TEAM, submission_id=SUBMISSION,
                       pseudonym=f"T{track}-7F3A", by=ORGANISER, now=EARLY)  # fmt: skip


def clean(found: Review) -> Review:
    found.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64, hit_kinds=[], now=EARLY)
    return found


@pytest.mark.parametrize("pseudonym", ["T2-7F3A", "T1-7f3a", "T1-7F3", "1-7F3A", "T1-7F3AB", ""])
def test_a_pseudonym_reads_T_track_dash_four_hex(pseudonym):
    with pytest.raises(errors.PseudonymInvalid):
        Review.open(contest_id=CONTEST, track=1, team_id=TEAM, submission_id=SUBMISSION,
                    pseudonym=pseudonym, by=ORGANISER, now=EARLY)  # fmt: skip


def test_a_held_report_goes_to_no_expert_and_only_its_hit_kinds_are_recorded():
    found = review()
    found.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64,
                       hit_kinds=["team name", "member name", "team name"], now=EARLY)  # fmt: skip
    assert found.report_held and not found.report_clean
    assert found.report["hit_kinds"] == ["member name", "team name"]
    assert found.report["sanitised_sha256"] is None  # a held copy is never handed out
    with pytest.raises(errors.ReviewReportNotClean):
        found.assign([uuid4()], now=EARLY)


def test_an_expert_scores_every_dimension_once_on_a_level_and_only_when_assigned():
    experts = [uuid4(), uuid4()]
    found = clean(review())
    found.assign(experts, now=EARLY)
    with pytest.raises(errors.ReviewAlreadyAssigned):
        found.assign([uuid4()], now=EARLY)
    score = dict(dimensions=DIMENSIONS, levels=LEVELS, now=EARLY)
    with pytest.raises(errors.ReviewNotAssigned):
        found.score(expert=uuid4(), grades=GRADES, **score)
    with pytest.raises(errors.RubricMismatch):
        found.score(expert=experts[0], grades={"innovation": 4}, **score)
    for bad in (6, -1, True, 3.5):
        with pytest.raises(errors.GradeNotALevel):
            found.score(expert=experts[0], grades={**GRADES, "uniqueness": bad}, **score)
    found.score(expert=experts[0], grades=GRADES, **score)
    with pytest.raises(errors.ReviewAlreadyScored):
        found.score(expert=experts[0], grades=GRADES, **score)
    assert not found.complete
    found.score(expert=experts[1], grades={**GRADES, "innovation": 1}, **score)
    assert found.complete and found.sheets[1]["innovation"] == 1


def test_a_rereview_is_a_new_round_the_old_sheets_stay_and_stop_counting():
    first, second = uuid4(), uuid4()
    found = clean(review())
    found.assign([first], now=EARLY)
    found.score(expert=first, grades=GRADES, dimensions=DIMENSIONS, levels=LEVELS, now=EARLY)
    found.reopen(appeal_id=uuid4(), now=EARLY)
    assert not found.complete and found.sheets == []
    assert found.rounds[0]["sheets"]  # history kept
    found.assign([second], now=EARLY)
    assert found.reviewers == {first, second}


def test_assignment_spreads_work_and_never_gives_a_barred_expert():
    experts = [uuid4() for _ in range(6)]
    loads = {e: 0 for e in experts}
    barred = {experts[0]}
    for _ in range(8):
        chosen = assign_experts(uuid4(), [Candidate(e, loads[e]) for e in experts], k=3,
                                barred=barred)  # fmt: skip
        assert len(chosen) == 3 and experts[0] not in chosen and len(set(chosen)) == 3
        for expert in chosen:
            loads[expert] += 1
    spread = [loads[e] for e in experts[1:]]
    assert max(spread) - min(spread) <= 1 and sum(spread) == 24


def test_too_few_free_experts_gives_fewer_than_k():
    experts = [uuid4(), uuid4()]
    assert len(assign_experts(uuid4(), [Candidate(e, 0) for e in experts], k=3, barred=set())) == 2


def appeal(**changes) -> Appeal:
    facts = dict(contest_id=CONTEST, team_id=TEAM, track=1, submission_id=SUBMISSION,
                 item="quality", number=1, reasons_sha256="c" * 64, evidence=[],
                 items=("quality", "expert"), closes=EARLY + timedelta(days=5), by=uuid4(),
                 now=EARLY)  # fmt: skip
    return Appeal.file(**{**facts, **changes})


def test_an_appeal_names_an_appealable_item_within_the_window():
    with pytest.raises(errors.AppealItemNotAppealable):
        appeal(item="gates")
    with pytest.raises(errors.AppealWindowClosed):
        appeal(now=EARLY + timedelta(days=5, seconds=1))
    assert appeal(now=EARLY + timedelta(days=5)).status is AppealStatus.FILED


def test_only_a_drawn_arbitrator_rules_once_with_a_published_remedy():
    arbitrator = uuid4()
    found = appeal()
    rule = dict(reasons_sha256="d" * 64, remedies=("rescore", "correct"), now=EARLY)
    with pytest.raises(errors.AppealNotYours):
        found.rule(arbitrator=arbitrator, outcome="dismissed", remedy=None, **rule)
    found.draw([arbitrator], now=EARLY)
    with pytest.raises(errors.AppealNotYours):
        found.rule(arbitrator=uuid4(), outcome="dismissed", remedy=None, **rule)
    with pytest.raises(errors.AppealOutcomeUnknown):
        found.rule(arbitrator=arbitrator, outcome="maybe", remedy=None, **rule)
    with pytest.raises(errors.RemedyNotAllowed):
        found.rule(arbitrator=arbitrator, outcome="upheld", remedy={"kind": "rereview"}, **rule)
    with pytest.raises(errors.RemedyInvalid):
        found.rule(arbitrator=arbitrator, outcome="upheld", remedy={"kind": "correct"}, **rule)
    with pytest.raises(errors.RemedyInvalid):
        found.rule(arbitrator=arbitrator, outcome="upheld",
                   remedy={"kind": "correct", "value": 1.5}, **rule)  # fmt: skip
    found.rule(arbitrator=arbitrator, outcome="upheld", remedy={"kind": "correct", "value": 0.8},
               **rule)  # fmt: skip
    assert found.status is AppealStatus.UPHELD
    with pytest.raises(errors.AppealNotOpen):
        found.rule(arbitrator=arbitrator, outcome="dismissed", remedy=None, **rule)
    with pytest.raises(errors.RemedyNotPending):
        found.record_remedy("rescore", detail={}, now=EARLY)
    found.record_remedy("correct", detail={}, now=EARLY)
    assert found.status is AppealStatus.REMEDIED


@pytest.mark.parametrize(
    ("item", "remedy"),
    [
        ("gates", {"kind": "correct", "value": 0.5}),
        ("quality", {"kind": "correct", "value": True}),
        ("quality", {"kind": "rescore", "rules_version": 0}),
        ("quality", {"kind": "rescore", "rules_version": "2"}),
        ("quality", {"kind": "rescore", "rules_version": 2, "value": 1}),
    ],
)
def test_a_remedy_carries_exactly_what_it_needs(item, remedy):
    with pytest.raises(errors.RemedyInvalid):
        check_remedy("upheld", remedy, ("rescore", "rereview", "correct"), item=item)


def test_a_waiting_appeal_records_each_reason_once_and_can_be_drawn_later():
    found = appeal()
    assert found.wait("no arbitrator is enrolled", now=EARLY)
    assert not found.wait("no arbitrator is enrolled", now=EARLY)
    assert found.status is AppealStatus.WAITING
    found.draw([uuid4()], now=EARLY)
    assert found.status is AppealStatus.DRAWN and found.waiting is None


people = st.lists(st.uuids(), min_size=0, max_size=12, unique=True)


@settings(max_examples=200, deadline=None)
@given(panel=people, data=st.data())
def test_no_arbitrator_drawn_reviewed_scored_arbitrated_before_or_declared_a_tie(panel, data):
    """Independence on random contests: whatever the panel and its ties, the draw takes none
    of those excluded, and with none eligible the appeal waits and says why."""
    reviewers = set(data.draw(st.lists(st.sampled_from(panel), unique=True))) if panel else set()
    earlier = set(data.draw(st.lists(st.sampled_from(panel), unique=True))) if panel else set()
    tied = set(data.draw(st.lists(st.sampled_from(panel), unique=True))) if panel else set()
    conflicts = {p: ("declared a tie" if p in tied else None) for p in panel}
    eligible, reason = eligible_arbitrators(panel, conflicts=conflicts, reviewers=reviewers,
                                            earlier=earlier)  # fmt: skip
    subject = data.draw(st.uuids())
    count = data.draw(st.integers(1, 3))
    drawn = draw_order(subject, eligible)[:count]
    assert not set(drawn) & (reviewers | earlier | tied)
    assert set(eligible) == set(panel) - reviewers - earlier - tied
    found = appeal()
    if len(eligible) < count:
        found.wait(reason or "too few", now=EARLY)
        assert found.status is AppealStatus.WAITING and found.arbitrators == []
    else:
        found.draw(drawn, now=EARLY)
        assert found.arbitrators == drawn
    assert (reason is None) == bool(eligible)


def test_the_draw_is_reproducible_from_the_record_and_not_by_name_order():
    panel = [UUID(int=n) for n in range(1, 9)]
    first = draw_order(UUID(int=100), panel)
    assert first == draw_order(UUID(int=100), list(reversed(panel)))
    assert {tuple(draw_order(UUID(int=s), panel)) for s in range(20)} != {tuple(first)}


def test_results_modes_and_the_appeal_window_from_the_first_publication():
    results = Results(contest_id=CONTEST)
    with pytest.raises(errors.ResultsNotPublished):
        results.appeal_window_closes(1, 5)
    publish = dict(track=1, freeze_at=EARLY, standings=[], rules_version=1, by=ORGANISER)
    with pytest.raises(errors.LeaderboardModeUnknown):
        results.publish(mode="public", now=EARLY, **publish)
    results.publish(mode="ranks", now=EARLY, **publish)
    results.publish(mode="full", now=EARLY + timedelta(days=3), **publish)
    assert results.appeal_window_closes(1, 5) == EARLY + timedelta(days=5)
    assert results.latest(1)["mode"] == "full" and results.latest(2) is None


def test_the_final_round_advances_top_n_gate_passers_and_awards_scored_finalists():
    final = FinalRound(contest_id=CONTEST, track=1)
    a, b, c = uuid4(), uuid4(), uuid4()
    line = lambda team: {"team_id": team, "submission_id": uuid4(), "rank": 1,  # noqa: E731
                         "preliminary_score": 0.9}  # fmt: skip
    with pytest.raises(errors.FinalTooMany):
        final.advance([line(a), line(b), line(c)], limit=2,
                      gates_passed={a: True, b: True, c: True}, by=ORGANISER,
                      now=EARLY)  # fmt: skip
    with pytest.raises(errors.FinalGateFailed):
        final.advance([line(a), line(b)], limit=2, gates_passed={a: True, b: False},
                      by=ORGANISER, now=EARLY)  # fmt: skip
    final.advance([line(a), line(b)], limit=2, gates_passed={a: True, b: True}, by=ORGANISER,
                  now=EARLY)  # fmt: skip
    with pytest.raises(errors.FinalAlreadyAdvanced):
        final.advance([line(a)], limit=2, gates_passed={a: True}, by=ORGANISER, now=EARLY)
    names = ("performance", "innovation", "clinical", "engineering")
    score = dict(names=names, scale_max=100, now=EARLY)
    expert = uuid4()
    with pytest.raises(errors.FinalNotAdvanced):
        final.score(team_id=c, expert=expert, dimensions=dict.fromkeys(names, 50), **score)
    for bad in ({**dict.fromkeys(names, 50), "performance": 101}, {"performance": 50},
                {**dict.fromkeys(names, 50), "engineering": "high"}):  # fmt: skip
        with pytest.raises(errors.FinalScoreInvalid):
            final.score(team_id=a, expert=expert, dimensions=bad, **score)
    final.score(team_id=a, expert=expert, dimensions=dict.fromkeys(names, 80), **score)
    with pytest.raises(errors.FinalAlreadyScored):
        final.score(team_id=a, expert=expert, dimensions=dict.fromkeys(names, 80), **score)
    award = {"team_id": b, "award": "first_prize", "rank": 1, "final_score": 0.8}
    with pytest.raises(errors.FinalUnscored):
        final.award([award], by=ORGANISER, now=EARLY)
    final.award([{**award, "team_id": a}], by=ORGANISER, now=EARLY)
    with pytest.raises(errors.FinalAlreadyAwarded):
        final.award([{**award, "team_id": a}], by=ORGANISER, now=EARLY)
