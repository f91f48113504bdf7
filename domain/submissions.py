"""Submissions of the preliminary round: a model and its technical report, run on the track's
hidden test set, scored, and recorded step by step as facts [七(一)].

A team submits only while approved, not disqualified, entered in the track and inside the
preliminary window, and within its quota (domain.quota). The model is named by digest: an
image by its ``sha256:`` id, a bundle by the SHA-256 of its file manifest; a tag or a file name
is never recorded. The workers report back through the commands of :class:`Submissions`;
every report is idempotent by job id, and a report that arrives after the submission has its
final result is ignored, so a job that ran twice records one result.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError

from domain.accounts import Actor, Role
from domain.base import ContestAggregate
from domain.contest import Contest
from domain.debug_phase import DEFAULT_LOG_CAP, DebugPhase
from domain.desk import ContestDesk
from domain.errors import (
    ConcurrentChange,
    ContentHashInvalid,
    FailureReasonUnknown,
    ModelKindUnknown,
    ScoreBeforeInference,
    ScoreInputsMismatch,
    StatusForbids,
    SubmissionNotFound,
    SubmissionStatusForbids,
    SubmissionWindowClosed,
    TeamDisqualified,
    TrackNotEntered,
)
from domain.quota import SubmissionQuota
from domain.rules import RulesBook
from domain.teams import Status as TeamStatus
from domain.teams import Team
from domain.testsets import TestSets, require_sha256
from domain.time import require_aware

MODEL_KINDS: tuple[str, ...] = ("image", "bundle")
PLATFORM_FAULT = "platform_fault"
INVALID_OUTPUT = "invalid_output"
FAILURE_REASONS: tuple[str, ...] = (
    "timeout",
    "out_of_memory",
    "crashed",
    INVALID_OUTPUT,
    "sandbox_violation",
    PLATFORM_FAULT,
)
_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")
# What a team may read of a failure: enough to act on, too little to carry data out.
_DETAIL_CAP = 1000
_DEBUG_PROBLEMS_CAP = 100
MAX_RECORDED_PROBLEMS = 50  # of a validation report, in its event; the rest by hash
# "curves": the ROC curves' summaries (scoring/curves.py), points over groups of cases and no case.
_AGGREGATE_KEYS = (
    "track",
    "track_name",
    "rules",
    "scoring_code",
    "cases",
    "gates",
    "primary",
    "curves",
)


class Status(StrEnum):
    SUBMITTED = "submitted"
    RUNNING = "running"
    INFERRED = "inferred"
    SCORED = "scored"
    FAILED = "failed"


FINAL = (Status.SCORED, Status.FAILED)


def require_eligible(team: Team, contest: Contest, track: int, now: datetime) -> str:
    """The team-side rules of a submission [四, 七(一), Q&A 20]; returns the team's group."""
    require_aware(now, "now")
    if team.disqualified:
        raise TeamDisqualified()
    if team.status is not TeamStatus.APPROVED:
        raise StatusForbids(status=team.status.value, action="submit a model")
    contest.track(track)
    if track not in team.tracks:
        raise TrackNotEntered(track=track)
    calendar = contest.calendar
    if not calendar.preliminary_start <= now < calendar.preliminary_end:
        raise SubmissionWindowClosed(start=calendar.preliminary_start, end=calendar.preliminary_end)
    return team.tracks[track]


def check_model(kind: str, ref: str) -> None:
    """An image is named by its ``sha256:`` id, a bundle by its manifest's SHA-256 hex."""
    if kind not in MODEL_KINDS:
        raise ModelKindUnknown(kind=kind, kinds=list(MODEL_KINDS))
    if kind == "bundle":
        require_sha256("model", ref)
    elif not isinstance(ref, str) or not _IMAGE_ID.fullmatch(ref):
        raise ContentHashInvalid(field="model", value=repr(ref))


class Submission(ContestAggregate):
    class InferenceCompleted(ContestAggregate.Event):
        """v2 adds ``output_sha256`` (the whole output tree) and ``sandbox_warnings``."""

        class_version = 2
        job_id: str
        predictions_sha256: str
        output_sha256: str
        sandbox_warnings: list[str]
        case_seconds: dict[str, float]
        model_load_seconds: float | None
        peak_ram_bytes: int | None
        peak_gpu_bytes: int | None
        runner_version: str
        log_sha256: str | None
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # A v1 run stored its output under the hash of predictions.json alone.
            state["output_sha256"] = state["predictions_sha256"]
            state["sandbox_warnings"] = []

    class InferenceFailed(ContestAggregate.Event):
        """v2 adds ``sandbox_warnings``; v3 ``validation_summary`` (every problem counted by
        kind, the full report's SHA-256), beside at most the first problems themselves."""

        class_version = 3
        job_id: str
        reason: str
        detail: str
        exit_code: int | None
        validation_report: list[dict[str, Any]] | None
        validation_summary: dict[str, Any] | None
        log_sha256: str | None
        sandbox_warnings: list[str]
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["sandbox_warnings"] = []

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["validation_summary"] = None

    class ScoreComputed(ContestAggregate.Event):
        """v2 keeps the aggregate figures only; the full breakdown (per case, per file: the
        hidden case ids and the truth files' hashes) is in the blob store, named by
        ``breakdown_sha256``."""

        class_version = 2
        job_id: str
        breakdown: dict[str, Any]
        breakdown_sha256: str | None
        rules_version: int
        rules_sha256: str
        predictions_sha256: str
        truth_sha256: str
        scoring_version: str
        gates_passed: bool
        efficiency: float | None
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["breakdown"] = aggregate_figures(state["breakdown"])
            state["breakdown_sha256"] = None

    @classmethod
    def submit(
        cls,
        *,
        team: Team,
        contest: Contest,
        track: int,
        model_kind: str,
        model_ref: str,
        report_sha256: str,
        testsets: TestSets,
        rules: RulesBook,
        by: UUID,
        now: datetime,
    ) -> Submission:
        """Records the test set and the rules in force now, so the scoring job (and an
        arbitrator later) knows exactly what this submission is scored on."""
        group = require_eligible(team, contest, track, now)
        testset, in_force = testsets.in_force(track), rules.in_force()
        check_model(model_kind, model_ref)
        require_sha256("report", report_sha256)
        return cls(
            contest_id=contest.id,
            team_id=team.id,
            track=track,
            group=group,
            model_kind=model_kind,
            model_ref=model_ref,
            report_sha256=report_sha256,
            testset_sha256=testset["sha256"],
            truth_sha256=testset["truth_sha256"],
            rules_version=in_force["version"],
            rules_sha256=in_force["sha256"],
            by=by,
            at=now,
        )

    @event("Submitted")
    def __init__(
        self,
        contest_id: UUID,
        team_id: UUID,
        track: int,
        group: str,
        model_kind: str,
        model_ref: str,
        report_sha256: str,
        testset_sha256: str,
        truth_sha256: str,
        rules_version: int,
        rules_sha256: str,
        by: UUID,
        at: datetime,
    ) -> None:
        self.contest_id, self.team_id = contest_id, team_id
        self.track, self.group = track, group
        self.model_kind, self.model_ref = model_kind, model_ref
        self.report_sha256 = report_sha256
        self.testset_sha256, self.truth_sha256 = testset_sha256, truth_sha256
        self.rules_version, self.rules_sha256 = rules_version, rules_sha256
        self.submitted_by, self.submitted_at = by, at
        self.status = Status.SUBMITTED
        self.started_jobs: list[dict[str, Any]] = []
        self.inference: dict[str, Any] | None = None
        self.failure: dict[str, Any] | None = None
        self.score: dict[str, Any] | None = None
        self.superseded_scores: list[dict[str, Any]] = []
        self.corrections: dict[str, dict[str, Any]] = {}

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def refund_due(self) -> bool:
        """A run that failed for the platform's reason does not cost the team a slot."""
        return self.failure is not None and self.failure["reason"] == PLATFORM_FAULT

    # --- the worker's reports (each returns False when it records nothing) -----------------

    def begin_inference(self, *, job_id: str, runner: str, now: datetime) -> bool:
        seen = any(job["job_id"] == job_id for job in self.started_jobs)
        if self.final or self.inference is not None or seen:
            return False
        self._inference_started(job_id=job_id, runner=runner, at=require_aware(now, "now"))
        return True

    @event("InferenceStarted")
    def _inference_started(self, job_id: str, runner: str, at: datetime) -> None:
        self.started_jobs.append({"job_id": job_id, "runner": runner, "at": at})
        self.status = Status.RUNNING

    def complete_inference(
        self,
        *,
        job_id: str,
        predictions_sha256: str,
        output_sha256: str,
        case_seconds: dict[str, float],
        model_load_seconds: float | None,
        peak_ram_bytes: int | None,
        peak_gpu_bytes: int | None,
        runner_version: str,
        log_sha256: str | None,
        now: datetime,
        sandbox_warnings: Sequence[str] = (),
    ) -> bool:
        """``output_sha256`` addresses everything the run wrote (the tree of its output
        folder), which is what the scorer reads; ``case_seconds`` are the platform's own
        measurements; ``sandbox_warnings`` says where the isolation was weaker than promised."""
        if self.final or self.inference is not None:
            return False
        require_sha256("predictions", predictions_sha256)
        require_sha256("output", output_sha256)
        if log_sha256 is not None:
            require_sha256("log", log_sha256)
        self._inference_completed(
            job_id=job_id,
            predictions_sha256=predictions_sha256,
            output_sha256=output_sha256,
            sandbox_warnings=list(sandbox_warnings),
            case_seconds=dict(case_seconds),
            model_load_seconds=model_load_seconds,
            peak_ram_bytes=peak_ram_bytes,
            peak_gpu_bytes=peak_gpu_bytes,
            runner_version=runner_version,
            log_sha256=log_sha256,
            at=require_aware(now, "now"),
        )
        return True

    @event(InferenceCompleted)
    def _inference_completed(
        self,
        job_id: str,
        predictions_sha256: str,
        output_sha256: str,
        sandbox_warnings: list[str],
        case_seconds: dict[str, float],
        model_load_seconds: float | None,
        peak_ram_bytes: int | None,
        peak_gpu_bytes: int | None,
        runner_version: str,
        log_sha256: str | None,
        at: datetime,
    ) -> None:
        self.inference = {
            "job_id": job_id,
            "predictions_sha256": predictions_sha256,
            "output_sha256": output_sha256,
            "sandbox_warnings": sandbox_warnings,
            "case_seconds": case_seconds,
            "model_load_seconds": model_load_seconds,
            "peak_ram_bytes": peak_ram_bytes,
            "peak_gpu_bytes": peak_gpu_bytes,
            "runner_version": runner_version,
            "log_sha256": log_sha256,
            "at": at,
        }
        self.status = Status.INFERRED

    def fail_inference(
        self,
        *,
        job_id: str,
        reason: str,
        detail: str,
        exit_code: int | None,
        validation_report: list[dict[str, Any]] | None,
        log_sha256: str | None,
        now: datetime,
        sandbox_warnings: Sequence[str] = (),
        validation_summary: dict[str, Any] | None = None,
    ) -> bool:
        """After a completed inference only ``invalid_output`` is still taken: predictions may
        be validated against the truth in the scoring stage. Any other late report is a
        stale job's and is ignored. The event keeps at most the first
        `MAX_RECORDED_PROBLEMS` problems of ``validation_report``; ``validation_summary``
        counts all of them and names the full report in the blob store (``report_sha256``)."""
        if reason not in FAILURE_REASONS:
            raise FailureReasonUnknown(reason=reason, reasons=list(FAILURE_REASONS))
        if self.final or (self.inference is not None and reason != INVALID_OUTPUT):
            return False
        if log_sha256 is not None:
            require_sha256("log", log_sha256)
        if validation_summary is not None:
            require_sha256("validation report", validation_summary.get("report_sha256"))
        self._inference_failed(
            job_id=job_id,
            reason=reason,
            detail=detail,
            exit_code=exit_code,
            validation_report=(
                None if validation_report is None else validation_report[:MAX_RECORDED_PROBLEMS]
            ),
            validation_summary=validation_summary,
            log_sha256=log_sha256,
            sandbox_warnings=list(sandbox_warnings),
            at=require_aware(now, "now"),
        )
        return True

    @event(InferenceFailed)
    def _inference_failed(
        self,
        job_id: str,
        reason: str,
        detail: str,
        exit_code: int | None,
        validation_report: list[dict[str, Any]] | None,
        validation_summary: dict[str, Any] | None,
        log_sha256: str | None,
        sandbox_warnings: list[str],
        at: datetime,
    ) -> None:
        self.failure = {
            "stage": "inference",
            "job_id": job_id,
            "reason": reason,
            "detail": detail,
            "exit_code": exit_code,
            "validation_report": validation_report,
            "validation_summary": validation_summary,
            "log_sha256": log_sha256,
            "sandbox_warnings": sandbox_warnings,
            "at": at,
        }
        self.status = Status.FAILED

    def record_score(
        self,
        *,
        job_id: str,
        breakdown: dict[str, Any],
        rules_version: int,
        rules_sha256: str,
        predictions_sha256: str,
        truth_sha256: str,
        scoring_version: str,
        gates_passed: bool,
        efficiency: float | None,
        now: datetime,
        breakdown_sha256: str | None = None,
    ) -> bool:
        """Refuses a score computed from other inputs than those this submission names. The
        event keeps the breakdown's `aggregate_figures`; the whole breakdown is the blob
        ``breakdown_sha256`` names."""
        if self.final:
            return False
        self._require_inferred()
        assert self.inference is not None
        for field, expected, got in (
            ("predictions", self.inference["predictions_sha256"], predictions_sha256),
            ("truth", self.truth_sha256, truth_sha256),
            ("rules version", self.rules_version, rules_version),
            ("rules", self.rules_sha256, rules_sha256),
        ):
            if expected != got:
                raise ScoreInputsMismatch(field=field, expected=expected, got=got)
        if breakdown_sha256 is not None:
            require_sha256("breakdown", breakdown_sha256)
        self._score_computed(
            job_id=job_id,
            breakdown=aggregate_figures(breakdown),
            breakdown_sha256=breakdown_sha256,
            rules_version=rules_version,
            rules_sha256=rules_sha256,
            predictions_sha256=predictions_sha256,
            truth_sha256=truth_sha256,
            scoring_version=scoring_version,
            gates_passed=bool(gates_passed),
            efficiency=efficiency,
            at=require_aware(now, "now"),
        )
        return True

    @event(ScoreComputed)
    def _score_computed(
        self,
        job_id: str,
        breakdown: dict[str, Any],
        breakdown_sha256: str | None,
        rules_version: int,
        rules_sha256: str,
        predictions_sha256: str,
        truth_sha256: str,
        scoring_version: str,
        gates_passed: bool,
        efficiency: float | None,
        at: datetime,
    ) -> None:
        self.score = _score_record(locals())
        self.status = Status.SCORED

    def fail_scoring(self, *, job_id: str, detail: str, now: datetime) -> bool:
        """The scoring could not run (the platform's fault): the slot is refunded."""
        if self.final:
            return False
        self._require_inferred()
        self._scoring_failed(job_id=job_id, detail=detail, at=require_aware(now, "now"))
        return True

    @event("ScoringFailed")
    def _scoring_failed(self, job_id: str, detail: str, at: datetime) -> None:
        self.failure = {
            "stage": "scoring",
            "job_id": job_id,
            "reason": PLATFORM_FAULT,
            "detail": detail,
            "exit_code": None,
            "validation_report": None,
            "log_sha256": None,
            "at": at,
        }
        self.status = Status.FAILED

    # --- after an appeal: append, never edit (domain/appeals.py) ---------------------------

    def replace_report(self, report_sha256: str, *, now: datetime) -> None:
        """The team's clean technical report, when the anonymity check held the first one
        (the desk checks that it was held); the old one stays in the history."""
        require_sha256("report", report_sha256)
        self._report_replaced(report_sha256=report_sha256, at=require_aware(now, "now"))

    @event("ReportReplaced")
    def _report_replaced(self, report_sha256: str, at: datetime) -> None:
        self.report_sha256 = report_sha256

    def supersede_score(self, *, appeal_id: UUID, now: datetime, **score: Any) -> None:
        """A re-score an upheld appeal ordered: same predictions and truth, under the rules
        version the ruling named. The old score stays in the history; the new one counts."""
        if self.status is not Status.SCORED or self.score is None:
            raise SubmissionStatusForbids(status=self.status.value, action="be re-scored")
        for field, expected in (
            ("predictions", self.score["predictions_sha256"]),
            ("truth", self.truth_sha256),
        ):
            got = score[f"{field}_sha256"]
            if expected != got:
                raise ScoreInputsMismatch(field=field, expected=expected, got=got)
        score["breakdown"] = aggregate_figures(score["breakdown"])
        self._score_superseded(appeal_id=appeal_id, at=require_aware(now, "now"), **score)

    @event("ScoreSuperseded")
    def _score_superseded(
        self,
        appeal_id: UUID,
        job_id: str,
        breakdown: dict[str, Any],
        breakdown_sha256: str | None,
        rules_version: int,
        rules_sha256: str,
        predictions_sha256: str,
        truth_sha256: str,
        scoring_version: str,
        gates_passed: bool,
        efficiency: float | None,
        at: datetime,
    ) -> None:
        assert self.score is not None
        self.superseded_scores.append(self.score)
        self.score = {**_score_record(locals()), "appeal_id": appeal_id}

    def correct_score(
        self, *, appeal_id: UUID, item: str, value: Any, reasons_sha256: str, now: datetime
    ) -> None:
        """A corrected score item an upheld appeal ordered, with the ruling's reasons."""
        if self.status is not Status.SCORED:
            raise SubmissionStatusForbids(status=self.status.value, action="have a score corrected")
        self._score_corrected(
            appeal_id=appeal_id,
            item=item,
            value=value,
            reasons_sha256=reasons_sha256,
            at=require_aware(now, "now"),
        )

    @event("ScoreCorrected")
    def _score_corrected(
        self, appeal_id: UUID, item: str, value: Any, reasons_sha256: str, at: datetime
    ) -> None:
        self.corrections[item] = {
            "value": value,
            "appeal_id": appeal_id,
            "reasons_sha256": reasons_sha256,
            "at": at,
        }

    def _require_inferred(self) -> None:
        if self.inference is None:
            raise ScoreBeforeInference(submission=self.id)


SCORE_FIELDS = (
    "job_id", "breakdown", "breakdown_sha256", "rules_version", "rules_sha256",
    "predictions_sha256", "truth_sha256", "scoring_version", "gates_passed", "efficiency", "at",
)  # fmt: skip


def _score_record(facts: dict[str, Any]) -> dict[str, Any]:
    """A submission's score as its events record it (computed, or superseding)."""
    return {field: facts[field] for field in SCORE_FIELDS}


@dataclass(frozen=True)
class PendingWork:
    """A submission whose current stage has no result yet: what a reconciler re-enqueues."""

    submission_id: UUID
    stage: str  # "inference" | "scoring"


class Submissions(ContestDesk):
    """The submission desk: a second application on the one ledger. It reads the Team,
    Contest and RulesBook aggregates the registration desk recorded, through its own
    repository, and writes submissions, quotas, test sets and the debug phase
    (docs/submissions.md says why it is not part of the registration desk)."""

    # --- reading -----------------------------------------------------------------------------

    def submission(self, submission_id: UUID) -> Submission:
        return self._get(Submission, submission_id, SubmissionNotFound(submission=submission_id))

    def submissions(self, *, team_id: UUID | None = None) -> list[Submission]:
        found = (self.submission(ident) for ident in self._created(Submission.Submitted))
        return [item for item in found if team_id is None or item.team_id == team_id]

    def testsets(self, contest_id: UUID) -> TestSets:
        return self._get_or_open(TestSets, contest_id)

    def debug_phase(self, contest_id: UUID) -> DebugPhase:
        return self._get_or_open(DebugPhase, contest_id)

    def quota(self, contest_id: UUID, team_id: UUID, track: int) -> SubmissionQuota:
        try:
            return self.repository.get(SubmissionQuota.create_id(contest_id, team_id, track))
        except AggregateNotFoundError:
            return SubmissionQuota(contest_id=contest_id, team_id=team_id, track=track)

    def pending_work(self) -> list[PendingWork]:
        """A query over the log (no aggregate is loaded): submissions in creation order whose
        inference, or whose scoring, has no final result."""
        inferred = set(self._created(Submission.InferenceCompleted))
        final = {
            ident
            for cls in (
                Submission.InferenceFailed,
                Submission.ScoreComputed,
                Submission.ScoringFailed,
            )
            for ident in self._created(cls)
        }
        return [
            PendingWork(ident, "scoring" if ident in inferred else "inference")
            for ident in self._created(Submission.Submitted)
            if ident not in final
        ]

    # --- organiser ---------------------------------------------------------------------------

    def register_testset(
        self,
        contest_id: UUID,
        *,
        track: int,
        sha256: str,
        truth_sha256: str,
        cases: int,
        actor: Actor,
        now: datetime,
        reason: str = "",
        public: bool = False,
    ) -> None:
        actor.require(Role.ORGANISER, action="register a test set")
        testsets = self.testsets(contest_id)
        testsets.register(
            track,
            sha256=sha256,
            truth_sha256=truth_sha256,
            cases=cases,
            contest=self.contest(contest_id),
            by=actor.account_id,
            now=now,
            reason=reason,
            public=public,
        )
        self._save(testsets)

    def open_debug_phase(
        self, contest_id: UUID, *, actor: Actor, now: datetime, log_cap: int = DEFAULT_LOG_CAP
    ) -> None:
        actor.require(Role.ORGANISER, action="open the debug phase")
        self.contest(contest_id)
        phase = self.debug_phase(contest_id)
        phase.open(log_cap=log_cap, by=actor.account_id, now=now)
        self._save(phase)

    def close_debug_phase(self, contest_id: UUID, *, actor: Actor, now: datetime) -> None:
        actor.require(Role.ORGANISER, action="close the debug phase")
        phase = self.debug_phase(contest_id)
        phase.close(by=actor.account_id, now=now)
        self._save(phase)

    # --- teams ---------------------------------------------------------------------------------

    def require_eligible(self, *, team_id: UUID, track: int, actor: Actor, now: datetime) -> None:
        """Every rule of :meth:`submit` that does not need the model: callers check this
        before unpacking a large model, then :meth:`submit` checks everything again."""
        team, contest = self._team_for(team_id, actor, "submit a model")
        require_eligible(team, contest, track, now)
        self.testsets(contest.id).in_force(track)
        self.rules(contest.id).in_force()
        self.quota(contest.id, team_id, track).require_slot(contest.quota, now)

    def submit(
        self,
        *,
        team_id: UUID,
        track: int,
        model_kind: str,
        model_ref: str,
        report_sha256: str,
        actor: Actor,
        now: datetime,
    ) -> UUID:
        team, contest = self._team_for(team_id, actor, "submit a model")
        submission = Submission.submit(
            team=team,
            contest=contest,
            track=track,
            model_kind=model_kind,
            model_ref=model_ref,
            report_sha256=report_sha256,
            testsets=self.testsets(contest.id),
            rules=self.rules(contest.id),
            by=actor.account_id,
            now=now,
        )
        quota = self.quota(contest.id, team_id, track)
        quota.take(submission.id, quota=contest.quota, now=now)
        try:
            self.save(submission, quota)
        except IntegrityError:
            # A racing submission took a slot first; if it was the last one, say so.
            self.quota(contest.id, team_id, track).require_slot(contest.quota, now)
            raise ConcurrentChange() from None
        return submission.id

    # --- the worker's reports ------------------------------------------------------------------

    def begin_inference(
        self, submission_id: UUID, *, job_id: str, runner: str, now: datetime
    ) -> bool:
        return self._report(
            submission_id, lambda s: s.begin_inference(job_id=job_id, runner=runner, now=now)
        )

    def complete_inference(self, submission_id: UUID, **report: Any) -> bool:
        """Keywords as :meth:`Submission.complete_inference`."""
        return self._report(submission_id, lambda s: s.complete_inference(**report))

    def fail_inference(self, submission_id: UUID, **report: Any) -> bool:
        """Keywords as :meth:`Submission.fail_inference`; ``platform_fault`` refunds the slot."""
        return self._report(submission_id, lambda s: s.fail_inference(**report))

    def record_score(self, submission_id: UUID, **report: Any) -> bool:
        """Keywords as :meth:`Submission.record_score`."""
        return self._report(submission_id, lambda s: s.record_score(**report))

    def fail_scoring(self, submission_id: UUID, *, job_id: str, detail: str, now: datetime) -> bool:
        return self._report(
            submission_id, lambda s: s.fail_scoring(job_id=job_id, detail=detail, now=now)
        )

    def _report(self, submission_id: UUID, record: Callable[[Submission], bool]) -> bool:
        """Two copies of one report racing each other: the loser reloads, finds the result
        recorded, and returns False."""
        try:
            return self._report_once(submission_id, record)
        except IntegrityError:
            pass
        try:
            return self._report_once(submission_id, record)
        except IntegrityError:
            raise ConcurrentChange() from None

    def _report_once(self, submission_id: UUID, record: Callable[[Submission], bool]) -> bool:
        """One report and, for a platform fault, its refund, in one transaction."""
        submission = self.submission(submission_id)
        if not record(submission):
            return False
        changed: list[Any] = [submission]
        if submission.refund_due:
            quota = self.quota(submission.contest_id, submission.team_id, submission.track)
            if quota.refund(submission.id, reason=PLATFORM_FAULT):
                changed.append(quota)
        self.save(*changed)
        return True

    # --- what a team may see -------------------------------------------------------------------

    def team_view(
        self,
        submission_id: UUID,
        *,
        debug_phase_open: bool | None = None,
        log: bytes | None = None,
    ) -> dict[str, Any]:
        """The team's own view [七(一), Q&A 6, 12]: its metrics and why a run failed; never
        per-case results, predictions or test data. Only while the organiser's debug phase
        is open does it add the validation report and the head of the model's log (``log``,
        the bytes the caller read from the blob store), capped. ``debug_phase_open`` defaults
        to the recorded phase."""
        submission = self.submission(submission_id)
        phase = self.debug_phase(submission.contest_id)
        # A run on hidden data shows its exit reason, never its output: only a run on a public
        # debug set shows its log and validation report, and only while the phase is open.
        public = self.testsets(submission.contest_id).is_public(submission.testset_sha256)
        debugging = public and (phase.is_open if debug_phase_open is None else debug_phase_open)
        view: dict[str, Any] = {
            "id": submission.id,
            "team_id": submission.team_id,
            "track": submission.track,
            "group": submission.group,
            "model_kind": submission.model_kind,
            "model_ref": submission.model_ref,
            "report_sha256": submission.report_sha256,
            "rules_version": submission.rules_version,
            "status": submission.status.value,
            "submitted_at": submission.submitted_at,
            "inference": _inference_view(submission.inference),
            "failure": _failure_view(submission.failure, debugging),
            "score": score_view(submission.score),
        }
        if debugging:
            view["log"] = _log_view(log, phase.log_cap)
        return view


def _inference_view(inference: dict[str, Any] | None) -> dict[str, Any] | None:
    if inference is None:
        return None
    seconds = list(inference["case_seconds"].values())
    return {
        "cases": len(seconds),
        "median_case_seconds": statistics.median(seconds) if seconds else None,
        "total_case_seconds": sum(seconds),
        "model_load_seconds": inference["model_load_seconds"],
        "peak_ram_bytes": inference["peak_ram_bytes"],
        "peak_gpu_bytes": inference["peak_gpu_bytes"],
        "runner_version": inference["runner_version"],
        "completed_at": inference["at"],
    }


def _failure_view(failure: dict[str, Any] | None, debugging: bool) -> dict[str, Any] | None:
    if failure is None:
        return None
    report = failure["validation_report"] or []
    view = {
        "stage": failure["stage"],
        "reason": failure["reason"],
        "detail": _capped(failure["detail"], _DETAIL_CAP)[0],
        "exit_code": failure["exit_code"],
        "refunded": failure["reason"] == PLATFORM_FAULT,
        # Which fields failed and how often; a problem's text may quote the model's output.
        "problems": _problem_counts(report, failure.get("validation_summary")),
        "at": failure["at"],
    }
    if debugging:
        view["validation_report"] = report[:_DEBUG_PROBLEMS_CAP]
    return view


def _problem_counts(
    report: list[dict[str, Any]], summary: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Counts of every problem by kind when the summary has them, else of those listed."""
    counts: dict[str, int] = dict(summary["kinds"]) if summary else {}
    for problem in [] if summary else report:
        field = str(problem.get("field", "?"))
        counts[field] = counts.get(field, 0) + 1
    return [{"field": field, "count": count} for field, count in sorted(counts.items())]


def aggregate_figures(breakdown: dict[str, Any]) -> dict[str, Any]:
    """What a ScoreComputed event keeps of a scoring breakdown: the figures over the whole set
    and the inputs' hashes, never a per-case figure or a file name (file names start with the
    hidden case ids)."""
    kept = {key: breakdown[key] for key in _AGGREGATE_KEYS if key in breakdown}
    kept["metrics"] = _without_cases(breakdown.get("metrics"), _case_ids(breakdown))
    for side in ("predictions", "truth"):
        if isinstance(breakdown.get(side), dict):
            kept[side] = {"sha256": breakdown[side].get("sha256")}
    return kept


def _case_ids(breakdown: dict[str, Any]) -> set[str]:
    case_ids = set(breakdown.get("per_case") or {})
    for digest in (breakdown.get("predictions"), breakdown.get("truth")):
        if isinstance(digest, dict):
            case_ids |= {path.split("/", 1)[0] for path in digest.get("files") or {}}
    return case_ids


def score_view(score: dict[str, Any] | None) -> dict[str, Any] | None:
    if score is None:
        return None
    breakdown = score["breakdown"]
    shown = {
        key: breakdown.get(key)
        for key in ("track", "track_name", "primary", "metrics", "gates", "curves")
    }
    cases = breakdown.get("cases")
    return {
        **_without_cases(shown, _case_ids(breakdown)),
        "cases": cases if isinstance(cases, dict) else None,
        "gates_passed": score["gates_passed"],
        "efficiency": score["efficiency"],
        "rules_version": score["rules_version"],
        "scoring_version": score["scoring_version"],
        "computed_at": score["at"],
    }


def _without_cases(value: Any, case_ids: set[str]) -> Any:
    """Drops every mapping entry named by a test case (belt and braces over the allow-list)."""
    if isinstance(value, dict):
        return {
            key: _without_cases(item, case_ids)
            for key, item in value.items()
            if key not in case_ids and key != "per_case"
        }
    if isinstance(value, list):
        return [
            _without_cases(item, case_ids)
            for item in value
            if not (isinstance(item, str) and item in case_ids)
        ]
    return value


def _log_view(log: bytes | None, cap: int) -> dict[str, Any] | None:
    if log is None:
        return None
    head, truncated = _capped(log, cap)
    return {"text": head.decode("utf-8", errors="replace"), "truncated": truncated}


def _capped(value: Any, cap: int) -> tuple[Any, bool]:
    return value[:cap], len(value) > cap
