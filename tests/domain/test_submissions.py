"""Submission rules: eligibility at its edges, the quota and its refunds, idempotent worker
reports, and what a team may see. On the in-memory store; the ledger race is in
test_submissions_ledger.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from helpers import (
    CALENDAR,
    EARLY,
    GROUPS,
    ORGANISER,
    PRELIMINARY_START,
    SECOND,
    TRACKS,
    member,
)

from domain import errors
from domain.accounts import Actor, Role
from domain.contest import Contest, Quota
from domain.rules import RulesBook
from domain.submissions import PendingWork, Status, Submissions
from domain.teams import Team
from domain.time import SHANGHAI

PRELIMINARY_END = CALENDAR.preliminary_end
DAY_ONE = datetime(2026, 8, 3, 10, tzinfo=SHANGHAI)
BUNDLE = "b" * 64
IMAGE = "sha256:" + "c" * 64
REPORT = "d" * 64
PREDICTIONS = "e" * 64
TESTSET, TRUTH = "1" * 64, "2" * 64
RULES = "3" * 64


@pytest.fixture
def desk() -> Submissions:
    return Submissions(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def open_contest(desk: Submissions, *, per_day: int = 2, total: int = 3):
    """The registration desk's part, recorded as its aggregates would record it."""
    contest = Contest.create(
        slug="huiyan-2026",
        name={"zh": "慧眼", "en": "huiyan"},
        groups=GROUPS,
        tracks=TRACKS,
        calendar=CALENDAR,
        quota=Quota(per_day=per_day, total=total),
        by=ORGANISER.account_id,
        now=EARLY,
    )
    book = RulesBook(contest_id=contest.id)
    book.publish(sha256=RULES, blob=RULES, calendar=CALENDAR, by=ORGANISER.account_id, now=EARLY)
    desk.save(contest, book)
    desk.register_testset(
        contest.id,
        track=1,
        sha256=TESTSET,
        truth_sha256=TRUTH,
        cases=24,
        actor=ORGANISER,
        now=EARLY,
    )
    return contest.id


def approved_team(
    desk: Submissions,
    contest_id,
    *people: str,
    approve: bool = True,
    tracks=((1, "self_owned"), (7, "self_built")),
):
    """A team formed (its leader registers, the others accept), submitted for review and,
    unless told, approved."""
    contest, by = desk.contest(contest_id), ORGANISER.account_id
    first, *others = people
    team = Team.register(
        team_id=uuid4(),
        contest=contest,
        name="-".join(people),
        language="zh",
        members=[member(first, leader=True)],
        by=by,
        now=EARLY,
    )
    for person in others:
        token_hash = f"token-{person}"
        team.invite(token_hash=token_hash, email_key="k", contest=contest, by=by, now=EARLY)
        team.join(member(person), token_hash=token_hash, contest=contest, now=EARLY)
    for track, group in tracks:
        team.enter_track(track, group, contest=contest, by=by, now=EARLY)
    team.attach_document(
        "identity_proof", ciphertext="ab" * 32, size=1, pages=1, contest=contest, by=by, now=EARLY
    )
    team.submit(contest=contest, by=by, now=EARLY)
    if approve:
        team.approve(by=by, now=EARLY)
    desk.save(team)
    return team.id


@pytest.fixture
def contest_id(desk):
    return open_contest(desk)


@pytest.fixture
def team_id(desk, contest_id):
    return approved_team(desk, contest_id, "a1", "a2")


def submit(desk: Submissions, team_id, now: datetime = DAY_ONE, *, track: int = 1, **kw):
    arguments = {"model_kind": "bundle", "model_ref": BUNDLE, "report_sha256": REPORT}
    arguments.update(kw)
    return desk.submit(team_id=team_id, track=track, actor=ORGANISER, now=now, **arguments)


def completed(desk: Submissions, submission_id, job_id: str = "job-1") -> bool:
    return desk.complete_inference(
        submission_id,
        job_id=job_id,
        predictions_sha256=PREDICTIONS,
        output_sha256="e" * 64,
        case_seconds={"c0001": 1.5, "c0002": 2.5, "c0003": 4.0},
        model_load_seconds=3.0,
        peak_ram_bytes=1 << 30,
        peak_gpu_bytes=None,
        runner_version="runner-1",
        log_sha256="f" * 64,
        now=DAY_ONE,
    )


def failed(desk: Submissions, submission_id, reason: str, job_id: str = "job-1", **kw) -> bool:
    report = {
        "job_id": job_id,
        "reason": reason,
        "detail": f"{reason} happened",
        "exit_code": None,
        "validation_report": None,
        "log_sha256": None,
        "now": DAY_ONE,
    }
    report.update(kw)
    return desk.fail_inference(submission_id, **report)


def scored(desk: Submissions, submission_id, job_id: str = "score-1", **kw) -> bool:
    report = {
        "job_id": job_id,
        "breakdown": BREAKDOWN,
        "rules_version": 1,
        "rules_sha256": RULES,
        "predictions_sha256": PREDICTIONS,
        "truth_sha256": TRUTH,
        "scoring_version": "huiyan 0.1",
        "gates_passed": True,
        "efficiency": 0.8,
        "now": DAY_ONE,
    }
    report.update(kw)
    return desk.record_score(submission_id, **report)


BREAKDOWN = {
    "track": 1,
    "track_name": "lung",
    "rules": {"version": 1, "sha256": RULES},
    "predictions": {"sha256": PREDICTIONS, "files": {"c0001/map.nii.gz": "0" * 64}},
    "truth": {"sha256": TRUTH, "files": {"c0002/mask.nii.gz": "0" * 64}},
    "cases": {"total": 3, "scored_by_track": 2},
    "gates": {"passed": True, "authenticity": {"macro_f1": 1.0}},
    "primary": {"name": "cpm", "value": 0.75},
    "metrics": {"cpm": 0.75, "sneaky": {"c0003": 0.1, "overall": 0.5}},
    "per_case": {"c0001": {"hit": 1}, "c0002": {"hit": 0}, "c0003": {"hit": 1}},
    "curves": [{"name": "roc", "kind": "roc", "fpr": [0, 0.5, 1], "tpr": [0, 1, 1], "auc": 0.9}],
}


# --- eligibility ---------------------------------------------------------------------------


def test_a_submission_records_the_rules_and_test_set_in_force(desk, contest_id, team_id):
    submission = desk.submission(submit(desk, team_id))
    assert (submission.team_id, submission.contest_id, submission.track) == (
        team_id,
        contest_id,
        1,
    )
    assert submission.group == "self_owned"
    assert (submission.model_kind, submission.model_ref) == ("bundle", BUNDLE)
    assert (submission.testset_sha256, submission.truth_sha256) == (TESTSET, TRUTH)
    assert (submission.rules_version, submission.rules_sha256) == (1, RULES)
    assert submission.status is Status.SUBMITTED
    assert submission.inference is submission.failure is submission.score is None


def test_only_inside_the_preliminary_window(desk, team_id):
    for moment in (PRELIMINARY_START - SECOND, PRELIMINARY_END, PRELIMINARY_END + SECOND):
        with pytest.raises(errors.SubmissionWindowClosed):
            submit(desk, team_id, moment)
    assert submit(desk, team_id, PRELIMINARY_START)
    assert submit(desk, team_id, PRELIMINARY_END - SECOND)


def test_a_team_not_approved_may_not_submit(desk, contest_id):
    team_id = approved_team(desk, contest_id, "b1", "b2", approve=False)
    with pytest.raises(errors.StatusForbids):  # under review is not approved
        submit(desk, team_id)
    team = desk.team(team_id)
    team.approve(by=ORGANISER.account_id, now=EARLY)
    desk.save(team)
    assert submit(desk, team_id)


def test_only_in_an_entered_track(desk, contest_id, team_id):
    with pytest.raises(errors.TrackNotEntered):
        only_one = ((1, "self_owned"),)
        submit(desk, approved_team(desk, contest_id, "n1", "n2", tracks=only_one), track=7)
    with pytest.raises(errors.TrackUnknown):
        submit(desk, team_id, track=4)


def test_a_disqualified_team_may_not_submit(desk, contest_id, team_id):
    team = desk.team(team_id)
    team.disqualify([{"match": "m1", "list": 1}], by=ORGANISER.account_id, now=EARLY)
    desk.save(team)
    with pytest.raises(errors.TeamDisqualified):
        submit(desk, team_id)


def test_the_leader_submits_for_the_team_and_nobody_else(desk, contest_id, team_id):
    leader = Actor(account_id=uuid4(), role=Role.TEAM_MEMBER, team_id=team_id, leader=True)
    member = Actor(account_id=uuid4(), role=Role.TEAM_MEMBER, team_id=team_id, leader=False)
    expert = Actor(account_id=uuid4(), role=Role.EXPERT)
    arguments = {"model_kind": "bundle", "model_ref": BUNDLE, "report_sha256": REPORT}
    for refused in (member, expert):
        with pytest.raises(errors.NotPermitted):
            desk.submit(team_id=team_id, track=1, actor=refused, now=DAY_ONE, **arguments)
    submission = desk.submit(team_id=team_id, track=1, actor=leader, now=DAY_ONE, **arguments)
    assert desk.submission(submission).submitted_by == leader.account_id


def test_models_are_named_by_digest_never_by_tag(desk, team_id):
    assert desk.submission(submit(desk, team_id, model_kind="image", model_ref=IMAGE))
    for kind, ref in (
        ("image", "team/model:latest"),
        ("image", "c" * 64),  # an image id carries its algorithm
        ("bundle", "model.tar.gz"),
        ("bundle", "B" * 64),
    ):
        with pytest.raises(errors.ContentHashInvalid):
            submit(desk, team_id, model_kind=kind, model_ref=ref)
    with pytest.raises(errors.ModelKindUnknown):
        submit(desk, team_id, model_kind="notebook")
    with pytest.raises(errors.ContentHashInvalid):
        submit(desk, team_id, report_sha256="report.pdf")


def test_a_track_without_a_test_set_takes_no_submissions(desk, team_id):
    with pytest.raises(errors.TestSetMissing):
        submit(desk, team_id, track=7)
    with pytest.raises(errors.TestSetMissing):
        desk.require_eligible(team_id=team_id, track=7, actor=ORGANISER, now=DAY_ONE)


# --- quota ---------------------------------------------------------------------------------


def test_the_day_after_the_quota_is_used_up_a_team_submits_again(desk, team_id):
    submit(desk, team_id)
    submit(desk, team_id)
    with pytest.raises(errors.DailyQuotaReached) as refused:
        submit(desk, team_id)
    assert refused.value.facts["day"] == "2026-08-03"
    with pytest.raises(errors.DailyQuotaReached):
        desk.require_eligible(team_id=team_id, track=1, actor=ORGANISER, now=DAY_ONE)
    # the contest day ends at midnight in Shanghai, whatever zone the clock reports in
    last_second = datetime(2026, 8, 3, 23, 59, 59, tzinfo=SHANGHAI)
    with pytest.raises(errors.DailyQuotaReached):
        submit(desk, team_id, last_second.astimezone(UTC))
    assert submit(desk, team_id, last_second + SECOND)


def test_the_quota_is_per_team_not_per_user(desk, contest_id, team_id):
    leader = Actor(account_id=uuid4(), role=Role.TEAM_MEMBER, team_id=team_id, leader=True)
    arguments = {"model_kind": "bundle", "model_ref": BUNDLE, "report_sha256": REPORT}
    desk.submit(team_id=team_id, track=1, actor=leader, now=DAY_ONE, **arguments)
    submit(desk, team_id)  # the organiser acting for the same team
    with pytest.raises(errors.DailyQuotaReached):
        desk.submit(team_id=team_id, track=1, actor=leader, now=DAY_ONE, **arguments)
    other = approved_team(desk, contest_id, "o1", "o2")
    assert submit(desk, other)  # another team has its own quota


def test_the_total_cap(desk, team_id):
    submit(desk, team_id)
    submit(desk, team_id)
    submit(desk, team_id, DAY_ONE + timedelta(days=1))
    with pytest.raises(errors.TotalQuotaReached):
        submit(desk, team_id, DAY_ONE + timedelta(days=2))


def test_a_platform_fault_gives_the_slot_back_and_a_model_failure_does_not(desk, team_id):
    first, second = submit(desk, team_id), submit(desk, team_id)
    assert failed(desk, first, "timeout")
    with pytest.raises(errors.DailyQuotaReached):
        submit(desk, team_id)
    assert failed(desk, second, "platform_fault")
    assert desk.submission(second).refund_due and not desk.submission(first).refund_due
    third = submit(desk, team_id)  # the refunded slot
    assert desk.quota(desk.submission(third).contest_id, team_id, 1).used("2026-08-03") == 2
    for reason in ("out_of_memory", "crashed", "invalid_output", "sandbox_violation"):
        other = submit(desk, approved_team(desk, desk.submission(first).contest_id, reason, "x"))
        assert failed(desk, other, reason) and not desk.submission(other).refund_due


def test_a_scoring_failure_is_the_platforms_and_refunds(desk, team_id):
    first, second = submit(desk, team_id), submit(desk, team_id)
    completed(desk, second)
    assert desk.fail_scoring(second, job_id="score-1", detail="worker lost", now=DAY_ONE)
    assert desk.submission(second).failure["reason"] == "platform_fault"
    assert submit(desk, team_id)
    assert first


# --- the worker's reports ------------------------------------------------------------------


def test_each_report_is_recorded_once(desk, team_id):
    submission_id = submit(desk, team_id)
    version = desk.submission(submission_id).version
    assert desk.begin_inference(submission_id, job_id="job-1", runner="gpu-0", now=DAY_ONE)
    assert not desk.begin_inference(submission_id, job_id="job-1", runner="gpu-0", now=DAY_ONE)
    assert completed(desk, submission_id)
    assert not completed(desk, submission_id)
    assert not completed(desk, submission_id, job_id="job-2")  # a rerun of the same work
    assert scored(desk, submission_id)
    assert not scored(desk, submission_id)
    submission = desk.submission(submission_id)
    assert submission.version == version + 3
    assert submission.status is Status.SCORED
    assert submission.inference["predictions_sha256"] == PREDICTIONS
    assert submission.score["gates_passed"] is True


def test_a_late_report_after_the_final_result_is_ignored(desk, team_id):
    submission_id = submit(desk, team_id)
    assert failed(desk, submission_id, "timeout", job_id="job-1")
    version = desk.submission(submission_id).version
    assert not completed(desk, submission_id, job_id="job-2")
    assert not failed(desk, submission_id, "platform_fault", job_id="job-2")
    assert not desk.begin_inference(submission_id, job_id="job-3", runner="x", now=DAY_ONE)
    assert not desk.fail_scoring(submission_id, job_id="s", detail="x", now=DAY_ONE)
    submission = desk.submission(submission_id)
    assert submission.version == version and submission.failure["reason"] == "timeout"
    with pytest.raises(errors.DailyQuotaReached):  # the stale platform fault refunded nothing
        submit(desk, team_id)
        submit(desk, team_id)


def test_a_stale_inference_failure_cannot_undo_a_completed_run(desk, team_id):
    submission_id = submit(desk, team_id)
    completed(desk, submission_id, job_id="job-2")
    assert not failed(desk, submission_id, "timeout", job_id="job-1")
    assert desk.submission(submission_id).status is Status.INFERRED
    problems = [{"case": "c0001", "field": "authenticity", "message": "missing"}]
    assert failed(desk, submission_id, "invalid_output", validation_report=problems)
    assert desk.submission(submission_id).status is Status.FAILED


def test_a_score_names_the_inputs_of_its_submission(desk, team_id):
    submission_id = submit(desk, team_id)
    with pytest.raises(errors.ScoreBeforeInference):
        scored(desk, submission_id)
    completed(desk, submission_id)
    for field, value in (
        ("predictions_sha256", "9" * 64),
        ("truth_sha256", "9" * 64),
        ("rules_version", 2),
        ("rules_sha256", "9" * 64),
    ):
        with pytest.raises(errors.ScoreInputsMismatch):
            scored(desk, submission_id, **{field: value})
    assert desk.submission(submission_id).score is None


def test_unknown_failure_reasons_are_refused(desk, team_id):
    with pytest.raises(errors.FailureReasonUnknown):
        failed(desk, submit(desk, team_id), "bad luck")


def test_pending_work_is_what_has_no_result(desk, contest_id, team_id):
    waiting, inferred = submit(desk, team_id), submit(desk, team_id)
    done = submit(desk, team_id, DAY_ONE + timedelta(days=1))
    broken = submit(desk, approved_team(desk, contest_id, "p1", "p2"))
    completed(desk, inferred)
    completed(desk, done)
    scored(desk, done)
    failed(desk, broken, "crashed")
    desk.begin_inference(waiting, job_id="job-9", runner="x", now=DAY_ONE)
    assert desk.pending_work() == [
        PendingWork(waiting, "inference"),
        PendingWork(inferred, "scoring"),
    ]


# --- what the team sees --------------------------------------------------------------------


def _flatten(value) -> str:
    return repr(value)


def test_the_team_sees_metrics_never_cases_or_logs(desk, team_id):
    submission_id = submit(desk, team_id)
    completed(desk, submission_id)
    scored(desk, submission_id)
    view = desk.team_view(submission_id, log=b"secret log line")
    shown = _flatten(view)
    for hidden in ("c0001", "c0002", "c0003", "per_case", "secret log", "f" * 64):
        assert hidden not in shown
    assert "log" not in view
    assert view["score"]["primary"] == {"name": "cpm", "value": 0.75}
    assert view["score"]["metrics"]["sneaky"] == {"overall": 0.5}
    assert view["score"]["curves"] == BREAKDOWN["curves"]  # summaries, kept by the event
    assert desk.submission(submission_id).score["breakdown"]["curves"] == BREAKDOWN["curves"]
    assert view["inference"]["cases"] == 3 and view["inference"]["median_case_seconds"] == 2.5


def test_a_failure_says_why_without_quoting_the_output(desk, team_id):
    submission_id = submit(desk, team_id)
    problems = [
        {"case": "c0001", "field": "authenticity.real_human", "message": "got 'PATIENT ZHANG'"},
        {"case": "c0002", "field": "authenticity.real_human", "message": "not a number"},
    ]
    failed(desk, submission_id, "invalid_output", validation_report=problems, exit_code=0)
    view = desk.team_view(submission_id, debug_phase_open=False)
    assert view["failure"]["reason"] == "invalid_output"
    assert view["failure"]["problems"] == [{"field": "authenticity.real_human", "count": 2}]
    assert "PATIENT" not in _flatten(view) and "c0001" not in _flatten(view)


def test_a_run_on_hidden_data_never_shows_its_output_even_in_the_debug_phase(
    desk, contest_id, team_id
):
    submission_id = submit(desk, team_id)  # on the track's hidden set
    problems = [{"case": "c0001", "field": "x", "message": "got 'aGlkZGVu' (base64 of input)"}]
    failed(desk, submission_id, "invalid_output", validation_report=problems, exit_code=0)
    desk.open_debug_phase(contest_id, actor=ORGANISER, now=DAY_ONE)
    view = desk.team_view(submission_id, log=b"aGlkZGVuIGlucHV0IHBpeGVscw==")
    assert "log" not in view
    assert "aGlkZGVu" not in _flatten(view) and "c0001" not in _flatten(view)
    assert view["failure"]["reason"] == "invalid_output"


def test_the_debug_phase_shows_a_capped_log(desk, contest_id, team_id):
    desk.register_testset(
        contest_id,
        track=1,
        sha256="5" * 64,
        truth_sha256=TRUTH,
        cases=3,
        actor=ORGANISER,
        now=DAY_ONE,
        reason="the public debug set",
        public=True,
    )
    submission_id = submit(desk, team_id)
    failed(desk, submission_id, "crashed", exit_code=1, log_sha256="a" * 64)
    desk.open_debug_phase(contest_id, actor=ORGANISER, now=DAY_ONE, log_cap=10)
    with pytest.raises(errors.DebugPhaseOpen):
        desk.open_debug_phase(contest_id, actor=ORGANISER, now=DAY_ONE)
    view = desk.team_view(submission_id, log=b"0123456789 and much more")
    assert view["log"] == {"text": "0123456789", "truncated": True}
    assert view["failure"]["exit_code"] == 1
    desk.close_debug_phase(contest_id, actor=ORGANISER, now=DAY_ONE)
    with pytest.raises(errors.DebugPhaseClosed):
        desk.close_debug_phase(contest_id, actor=ORGANISER, now=DAY_ONE)
    assert "log" not in desk.team_view(submission_id, log=b"0123456789")


def test_only_organisers_run_the_debug_phase_and_the_test_sets(desk, contest_id, team_id):
    leader = Actor(account_id=uuid4(), role=Role.TEAM_MEMBER, team_id=team_id, leader=True)
    with pytest.raises(errors.NotPermitted):
        desk.open_debug_phase(contest_id, actor=leader, now=DAY_ONE)
    with pytest.raises(errors.NotPermitted):
        desk.register_testset(
            contest_id,
            track=1,
            sha256="4" * 64,
            truth_sha256=TRUTH,
            cases=3,
            actor=leader,
            now=DAY_ONE,
        )


def test_replacing_a_test_set_during_the_round_needs_a_reason(desk, contest_id, team_id):
    arguments = {"truth_sha256": TRUTH, "cases": 3, "actor": ORGANISER}
    with pytest.raises(errors.TestSetUnchanged):
        desk.register_testset(contest_id, track=1, sha256=TESTSET, now=EARLY, **arguments)
    with pytest.raises(errors.ReasonRequired):
        desk.register_testset(contest_id, track=1, sha256="4" * 64, now=DAY_ONE, **arguments)
    desk.register_testset(
        contest_id,
        track=1,
        sha256="4" * 64,
        now=DAY_ONE,
        reason="case c0007 mislabelled",
        **arguments,
    )
    assert desk.submission(submit(desk, team_id)).testset_sha256 == "4" * 64
    # a track's first set may come late: nobody could submit to that track before it
    desk.register_testset(contest_id, track=7, sha256="5" * 64, now=DAY_ONE, **arguments)
    assert desk.testsets(contest_id).in_force(7)["sha256"] == "5" * 64
