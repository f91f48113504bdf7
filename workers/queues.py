"""Where work waits: RQ queues on Redis in production, the calling process on a laptop.

Two queues, named after the two stages of a submission: ``inference`` (GPU hosts) and
``scoring`` (CPU hosts). A job's id is derived from the submission (``<stage>-<submission id>``),
so enqueueing it twice queues it once, and a worker's report, being idempotent by job id in the
domain, is recorded once even when a job does run twice (after Redis lost its memory).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from redis import Redis
from rq import Callback, Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

Stage = Literal["inference", "scoring"]
STAGES: tuple[Stage, ...] = ("inference", "scoring")
JobState = Literal["missing", "waiting", "running", "abandoned", "done"]

# Platform faults (a lost connection, a full disk) are retried with backoff; a model's own
# failure is a result, never retried. Seconds between the tries:
RETRY_INTERVALS = (5, 30, 120)
ALIVE_SECONDS = 15  # a running job refreshes its liveness key well within this


def job_id_for(stage: Stage, submission_id: str) -> str:
    return f"{stage}-{submission_id}"


def alive_key(job_id: str) -> str:
    return f"huiyan:alive:{job_id}"


@dataclass(frozen=True)
class JobFunctions:
    """What runs each stage, and what records a platform fault when every retry failed."""

    run: dict[Stage, Callable[[str, str], object]]
    gave_up: dict[Stage, Callable[..., object]]


class JobQueue(Protocol):
    def enqueue(self, stage: Stage, submission_id: str) -> bool:
        """Queue the stage's job unless it is queued already; True when this call queued it."""

    def state(self, stage: Stage, submission_id: str) -> JobState: ...

    def requeue(self, stage: Stage, submission_id: str) -> None:
        """Queue the job again: it vanished, or its worker died while running it."""


class RQJobQueue:
    def __init__(self, redis: Redis, functions: JobFunctions, job_timeout: int = 4 * 3600):
        self.redis = redis
        self.functions = functions
        self.job_timeout = job_timeout
        self.queues = {stage: Queue(stage, connection=redis) for stage in STAGES}

    def enqueue(self, stage: Stage, submission_id: str) -> bool:
        job_id = job_id_for(stage, submission_id)
        # One atomic claim per job id, so two dispatchers (or a retry of one) queue it once.
        if not self.redis.set(f"huiyan:queued:{job_id}", 1, nx=True):
            return False
        self._put(stage, submission_id, job_id)
        return True

    def requeue(self, stage: Stage, submission_id: str) -> None:
        job_id = job_id_for(stage, submission_id)
        self.redis.set(f"huiyan:queued:{job_id}", 1)
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(job_id, connection=self.redis).delete()
        self._put(stage, submission_id, job_id)

    def _put(self, stage: Stage, submission_id: str, job_id: str) -> None:
        self.queues[stage].enqueue(
            self.functions.run[stage],
            submission_id,
            job_id,
            job_id=job_id,
            job_timeout=self.job_timeout,
            result_ttl=7 * 24 * 3600,
            failure_ttl=30 * 24 * 3600,
            retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
            on_failure=Callback(self.functions.gave_up[stage]),
            meta={"submission_id": submission_id, "progress": None},
        )

    def state(self, stage: Stage, submission_id: str) -> JobState:
        """Where the job stands. RQ's record says whether it waits or is over; otherwise a
        fresh liveness key says it runs, whatever the record says (a restart may have lost
        the record of a job that runs on). Without one, a started job is abandoned, and one
        with no record, or a record without a status RQ knows (left half-written by a
        restart), is missing: nothing will ever run it."""
        job_id = job_id_for(stage, submission_id)
        try:
            status = Job.fetch(job_id, connection=self.redis).get_status()
        except (NoSuchJobError, ValueError):
            status = None
        if status in (JobStatus.FINISHED, JobStatus.FAILED):
            return "done"  # finished, or failed after its retries (the failure is recorded)
        if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED):
            return "waiting"
        if self.redis.exists(alive_key(job_id)):
            return "running"
        return "missing" if status is None else "abandoned"


class LivenessWorker(Worker):
    """RQ's forking worker, which marks a job alive the moment it takes the job, before RQ
    records it as started: the job's own beat (workers/jobs.py ``kept_alive``) takes over once
    its code runs. Without this the reconciler, which counts a started job without a sign of
    life as abandoned, could catch a job whose work horse is still starting and queue it a
    second time."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        self.connection.set(alive_key(job.id), 1, ex=ALIVE_SECONDS)
        super().execute_job(job, queue)


class InlineJobQueue:
    """The embedded default: a job runs in the calling process as soon as it is queued.

    Retries and the give-up record behave as on RQ, without waiting between the tries.
    """

    def __init__(self, functions: JobFunctions):
        self.functions = functions
        self.done: set[str] = set()

    def enqueue(self, stage: Stage, submission_id: str) -> bool:
        job_id = job_id_for(stage, submission_id)
        if job_id in self.done:
            return False
        self.done.add(job_id)
        self._run(stage, submission_id, job_id)
        return True

    def requeue(self, stage: Stage, submission_id: str) -> None:
        self._run(stage, submission_id, job_id_for(stage, submission_id))

    def state(self, stage: Stage, submission_id: str) -> JobState:
        return "done" if job_id_for(stage, submission_id) in self.done else "missing"

    def _run(self, stage: Stage, submission_id: str, job_id: str) -> None:
        for _ in range(len(RETRY_INTERVALS) + 1):
            try:
                self.functions.run[stage](submission_id, job_id)
                return
            except Exception as error:  # a platform fault: the job records model failures
                last = error
        self.functions.gave_up[stage](
            InlineJob(job_id, submission_id), None, type(last), last, None
        )


@dataclass(frozen=True)
class InlineJob:
    """What a give-up callback reads from an RQ job."""

    id: str
    submission_id: str
    should_retry: bool = False  # the in-process queue gives up only after its last try

    @property
    def meta(self) -> dict[str, str]:
        return {"submission_id": self.submission_id}
