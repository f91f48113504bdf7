"""The two jobs of a submission: run the model in a sandbox, then score what it wrote.

A job receives only ids; it reads everything else from the ledger and the stores under
``HUIYAN_HOME``, does its work and reports through the submission desk's commands, which are
idempotent by job id (ARCHITECTURE.md rule 3: workers never write state themselves).

What the model does is a *result*, never an error: a timeout, a crash or invalid output is
reported and the job ends normally, so that RQ does not retry it. Only a platform fault (the
sandbox cannot start, a store or the database is unreachable) raises, and RQ retries it with
backoff; when every retry failed, ``inference_gave_up`` / ``scoring_gave_up`` record the fault,
which refunds the team's submission slot.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from uuid import UUID

from redis.exceptions import RedisError

from domain.submissions import Submission, Submissions
from ledger.application import open_application
from ledger.blobs import BlobStore
from ledger.settings import Settings
from scoring.efficiency import efficiency_score
from scoring.errors import PredictionsInvalid, Problem
from scoring.rules import parse_rules
from scoring.version import scorer_version
from workers.models import model_store, testset_store, tree_sha256
from workers.queues import ALIVE_SECONDS, alive_key
from workers.sandbox import ImageRef, Limits, RunResult, Sandbox
from workers.sandbox.outputs import copy_outputs, release_output_dir
from workers.sandbox.slot import run_slot
from workers.scoring_sandbox import ScorerFault, score_in_sandbox

NOBODY = 65534
RUNNER_VERSION = f"huiyan-runner/{metadata.version('huiyan')}"
PREDICTIONS = "predictions.json"
MAX_DETAIL = 500
BEAT_SECONDS = 2.0  # between two refreshes of a running job's liveness key
log = logging.getLogger(__name__)


class PlatformFault(Exception):
    """The platform, not the model, failed; RQ retries the job."""


@functools.cache
def desk(settings: Settings) -> Submissions:
    return open_application(Submissions, settings)


def sandbox_for(settings: Settings, uid: int = NOBODY) -> Sandbox:
    """The backend the settings name, running the model as ``uid``. The process backend never
    runs a model without isolation unless development explicitly allows it
    (HUIYAN_SANDBOX_UNISOLATED=allow)."""
    if settings.sandbox == "docker":
        import docker

        from workers.sandbox.docker_backend import DockerSandbox

        client = docker.from_env(timeout=60)
        return DockerSandbox(client, uid=uid, gid=uid, runtime=settings.docker_runtime)
    from workers.sandbox.process import ProcessSandbox

    return ProcessSandbox(uid=uid, gid=uid, allow_fallback=settings.sandbox_unisolated)


def limits_for(settings: Settings) -> Limits:
    return Limits(
        wall_seconds=settings.run_wall_seconds,
        memory_bytes=settings.run_memory_bytes,
        output_bytes=settings.run_output_bytes,
        gpu=settings.gpu,
    )


def isolation_problem(settings: Settings) -> str | None:
    """Why this host cannot run models as the settings require, or None. A worker asks at
    start-up and refuses all work while the answer is not None."""
    if settings.sandbox == "docker":
        import docker

        try:
            docker.from_env(timeout=10).ping()
        except Exception as error:  # noqa: BLE001 - whatever keeps the engine from answering
            return f"no usable Docker engine ({type(error).__name__}: {error})"
        return None
    if settings.sandbox_unisolated:
        return None
    from workers.sandbox.process import ProcessSandbox

    return ProcessSandbox().isolation_problem


def predictions_folder(settings: Settings, predictions_sha256: str) -> Path:
    return settings.home / "predictions" / predictions_sha256


# --- inference ----------------------------------------------------------------------------------


def run_inference(submission_id: str, job_id: str) -> str:
    with kept_alive(job_id) as beat:
        return _inference(submission_id, job_id, beat)


def _inference(submission_id: str, job_id: str, beat: Beat) -> str:
    settings = Settings.from_env()
    submissions = desk(settings)
    ident = UUID(submission_id)
    submission = submissions.submission(ident)
    if submission.final or submission.inference is not None:
        return "already recorded"
    submissions.begin_inference(
        ident, job_id=job_id, runner=socket.gethostname(), now=settings.now()
    )
    testset = testset_store(settings).path(submission.testset_sha256)
    run_dir = settings.home / "runs" / job_id
    output = run_dir / "output"
    release_output_dir(output)
    shutil.rmtree(run_dir, ignore_errors=True)  # a retry starts from nothing
    output.mkdir(parents=True)
    model: Path | ImageRef = (
        model_store(settings).path(submission.model_ref)
        if submission.model_kind == "bundle"
        else ImageRef(submission.model_ref)
    )
    cases = [c["case_id"] for c in json.loads((testset / "input" / "cases.json").read_text())]
    limits = limits_for(settings)
    try:
        with run_slot(output, limits) as (uid, cap_warnings):
            sandbox = sandbox_for(settings, uid)
            beat.progress = lambda: cases_written(output, len(cases))
            try:
                result = sandbox.run(model, testset / "input", output, limits)
            except Exception as error:  # the sandbox could not run at all: the platform's
                raise PlatformFault(f"sandbox: {type(error).__name__}: {error}") from error
            finally:
                beat.progress = None  # the output folder goes with the slot; the meta stays
            warnings = [*cap_warnings, *result.warnings]
            log_sha256 = BlobStore(settings.blobs_dir).put(result.log) if result.log else None
            written = {f.path: f.sha256 for f in result.outputs}
            if result.outcome != "completed" or PREDICTIONS not in written:
                _report_failure(submissions, ident, job_id, result, log_sha256, warnings, settings)
                return result.outcome
            output_sha256 = tree_sha256(written)
            target = predictions_folder(settings, output_sha256)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                copy_outputs(output, result.outputs, target)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    submissions.complete_inference(
        ident,
        job_id=job_id,
        predictions_sha256=written[PREDICTIONS],
        output_sha256=output_sha256,
        case_seconds=measured_case_seconds(cases, result.wall_seconds),
        model_load_seconds=None,
        peak_ram_bytes=result.peak_ram_bytes,
        peak_gpu_bytes=result.peak_gpu_bytes,
        runner_version=RUNNER_VERSION,
        log_sha256=log_sha256,
        sandbox_warnings=warnings,
        now=settings.now(),
    )
    return "completed"


def _report_failure(
    submissions: Submissions,
    ident: UUID,
    job_id: str,
    result: RunResult,
    log_sha256: str | None,
    warnings: list[str],
    settings: Settings,
) -> None:
    if result.outcome == "completed":
        reason, detail = "invalid_output", f"the model wrote no /output/{PREDICTIONS}"
    else:
        reason = "crashed" if result.outcome == "crashed" else result.outcome
        detail = result.violation or {
            "timeout": f"ran past the limit of {settings.run_wall_seconds:g} s",
            "out_of_memory": f"used more than {settings.run_memory_bytes >> 20} MiB",
            "crashed": f"exited with code {result.exit_code}",
        }.get(result.outcome, result.outcome)
    submissions.fail_inference(
        ident,
        job_id=job_id,
        reason=reason,
        detail=detail[:MAX_DETAIL],
        exit_code=result.exit_code,
        validation_report=None,
        log_sha256=log_sha256,
        sandbox_warnings=warnings,
        now=settings.now(),
    )


def measured_case_seconds(case_ids: list[str], wall_seconds: float) -> dict[str, float]:
    """Per-case inference time as the platform measured it: the run's wall time (from the
    sandbox's side: start of the process to its exit, model loading included) shared evenly
    among the cases. A model's own ``timings.json`` is never read: a model could claim
    anything (SCORING.md §4; docs/workers.md)."""
    return {case: wall_seconds / max(len(case_ids), 1) for case in case_ids}


@dataclass
class Beat:
    """What a job's beat reports besides its liveness: ``progress()``, once there is some."""

    progress: Callable[[], dict[str, int]] | None = None


@contextmanager
def kept_alive(job_id: str) -> Iterator[Beat]:
    """While a job runs under RQ, from its first line to its last: keep its liveness key
    fresh (the reconciler's sign of life, docs/workers.md) and whatever progress the job
    reports in the job's meta, for the web pages. Redis away for a while (a restart) does
    not end the beat: it tries again two seconds later, so a job that goes on running is
    seen running again as soon as Redis is back."""
    from rq import get_current_job

    job = get_current_job()
    beat = Beat()
    if job is None:  # in-process: nobody watches
        yield beat
        return
    stop = threading.Event()

    def once() -> None:
        job.connection.set(alive_key(job_id), 1, ex=ALIVE_SECONDS)
        # Progress only into a job record that still exists: saving the meta of a record a
        # restart lost would leave a half-written one behind.
        if beat.progress is not None and job.connection.exists(job.key):
            job.meta["progress"] = beat.progress()
            job.save_meta()

    def beating() -> None:
        while True:
            try:
                once()
            except RedisError as error:
                log.warning("job %s: no beat (%s); trying again", job_id, type(error).__name__)
            if stop.wait(BEAT_SECONDS):
                return

    thread = threading.Thread(target=beating, daemon=True)
    thread.start()
    try:
        yield beat
    finally:
        stop.set()
        thread.join()
        # A last beat, not a delete: the key outlives the job's code by ALIVE_SECONDS, while
        # RQ records the job as finished. Deleted here, a reconciler that looked in between
        # found a started job without a sign of life and ran it again.
        with contextlib.suppress(RedisError):
            job.connection.set(alive_key(job_id), 1, ex=ALIVE_SECONDS)


def cases_written(output: Path, total: int) -> dict[str, int]:
    """Cases with an output folder, out of ``total``: a run's progress."""
    done = sum(1 for p in output.iterdir() if p.is_dir()) if output.is_dir() else 0
    return {"done": min(done, total), "total": total}


# --- scoring ------------------------------------------------------------------------------------


def run_scoring(submission_id: str, job_id: str) -> str:
    with kept_alive(job_id):
        return _scoring(submission_id, job_id)


def _scoring(submission_id: str, job_id: str) -> str:
    settings = Settings.from_env()
    submissions = desk(settings)
    ident = UUID(submission_id)
    submission = submissions.submission(ident)
    if submission.final or submission.inference is None:
        return "nothing to score"
    rules_document = rules_of(settings, submissions, submission)
    rules = parse_rules(rules_document)
    predictions = predictions_folder(settings, submission.inference["output_sha256"])
    truth = testset_store(settings).path(submission.testset_sha256) / "truth"
    blobs = BlobStore(settings.blobs_dir)
    try:  # the team's files are opened only in the sandbox (workers/scoring_sandbox.py)
        outcome = score_in_sandbox(settings, submission.track, predictions, truth, rules_document)
    except ScorerFault as fault:
        raise PlatformFault(f"scoring: {fault}") from fault
    if outcome.breakdown_json is None:
        if outcome.invalid is not None:
            total, summary = outcome.invalid["total"], dict(outcome.invalid["summary"])
            report = outcome.invalid["report"].encode("utf-8")
        else:  # the files defeated the scorer's memory or time
            refusal = PredictionsInvalid([Problem(None, "(predictions)", str(outcome.refused))])
            total, summary, report = refusal.total, refusal.summary(), refusal.report_json()
        # The event holds a bounded summary; the full report goes to the blob store by hash.
        submissions.fail_inference(
            ident,
            job_id=job_id,
            reason="invalid_output",
            detail=f"{total} problems in the predictions; nothing was scored",
            exit_code=0,
            validation_report=summary.pop("first"),
            validation_summary={**summary, "report_sha256": blobs.put(report)},
            log_sha256=submission.inference["log_sha256"],
            now=settings.now(),
        )
        return "invalid_output"
    breakdown = outcome.breakdown
    case_seconds = list(submission.inference["case_seconds"].values())
    submissions.record_score(
        ident,
        job_id=job_id,
        breakdown=breakdown,  # the event keeps its aggregate figures; the rest by hash
        breakdown_sha256=blobs.put(outcome.breakdown_json),
        rules_version=submission.rules_version,
        rules_sha256=breakdown["rules"]["sha256"],
        predictions_sha256=breakdown["predictions"]["sha256"],
        truth_sha256=breakdown["truth"]["sha256"],
        scoring_version=scorer_version(breakdown),
        gates_passed=breakdown["gates"]["passed"],
        efficiency=efficiency_score(case_seconds, rules.track(submission.track).t_ref_seconds),
        now=settings.now(),
    )
    return "scored"


def rules_of(settings: Settings, submissions: Submissions, submission: Submission) -> bytes:
    """The rules document this submission named, as its bytes from the blob store."""
    book = submissions.rules(submission.contest_id)
    version = next(v for v in book.versions if v["version"] == submission.rules_version)
    return BlobStore(settings.blobs_dir).get(version["blob"])


# --- when every retry failed ------------------------------------------------------------------
# RQ runs a job's failure callback after every failed try, before it decides to try again
# (RQ 2 and 3; tests/workers/test_pipeline_rq.py pins it): a callback that recorded the fault
# at once would make the first passing fault final, and the retries would find it recorded.
# So each records only when no try is left (``job.should_retry`` false).


def _fault(value: BaseException | None) -> str:
    """What the ledger (and the team) learns of a platform fault: its kind only. Messages can
    name hosts, paths or URLs; they go to the worker's own log for the operators."""
    if value is None:
        return "platform fault: the worker running the job stopped"
    cause = value.__cause__ or value
    log.error("platform fault, job given up: %s", value, exc_info=value)
    return f"platform fault ({type(cause).__name__}); the submission is refunded"


def inference_gave_up(job: Any, connection: Any, kind: Any, value: Any, traceback: Any) -> None:
    if job.should_retry:  # not the last try (see _fault's section above)
        return
    settings = Settings.from_env()
    desk(settings).fail_inference(
        UUID(job.meta["submission_id"]),
        job_id=job.id,
        reason="platform_fault",
        detail=_fault(value),
        exit_code=None,
        validation_report=None,
        log_sha256=None,
        now=settings.now(),
    )


def scoring_gave_up(job: Any, connection: Any, kind: Any, value: Any, traceback: Any) -> None:
    if job.should_retry:
        return
    settings = Settings.from_env()
    desk(settings).fail_scoring(
        UUID(job.meta["submission_id"]), job_id=job.id, detail=_fault(value), now=settings.now()
    )
