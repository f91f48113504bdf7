"""The submission pipeline wired together: which event asks for which job, and on what queue.

``Submitted`` asks for inference; ``InferenceCompleted`` asks for scoring. With
``HUIYAN_REDIS_URL`` the jobs go to RQ and separate ``huiyan worker`` processes run them; without
it (the laptop default) they run in the dispatcher's own process as soon as it reads the event.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from redis import Redis

from domain.submissions import Submission
from ledger.settings import Settings
from services.read_models import listings
from services.run_durations import open_run_durations
from workers import jobs
from workers.dispatcher import Dispatcher, reconcile
from workers.queues import (
    InlineJobQueue,
    JobFunctions,
    JobQueue,
    JobState,
    RQJobQueue,
    Stage,
)

FUNCTIONS = JobFunctions(
    run={"inference": jobs.run_inference, "scoring": jobs.run_scoring},
    gave_up={"inference": jobs.inference_gave_up, "scoring": jobs.scoring_gave_up},
)
WORK_ASKED_BY: dict[type, Stage] = {
    Submission.Submitted: "inference",
    Submission.InferenceCompleted: "scoring",
}


def job_queue(settings: Settings) -> JobQueue:
    if settings.redis_url:
        return RQJobQueue(Redis.from_url(settings.redis_url), FUNCTIONS)
    return InlineJobQueue(FUNCTIONS)


def open_dispatcher(settings: Settings, queue: JobQueue | None = None) -> Dispatcher:
    submissions = jobs.desk(settings)
    view = SQLAlchemyTrackingRecorder(
        datastore=submissions.factory.datastore,  # type: ignore[attr-defined]
        tracking_table_name="dispatcher_tracking",
    )
    view.create_table()
    followers = [open_run_durations(submissions)]
    return Dispatcher(view, queue or job_queue(settings), WORK_ASKED_BY, followers)


def dispatch_once(
    settings: Settings,
    dispatcher: Dispatcher,
    on_job: Callable[[Stage, str], None] | None = None,
) -> tuple[int, int]:
    """One round: queue the work new events ask for, then re-queue lost work.

    ``on_job(stage, submission_id)``, when given, is called after each job this round queued
    or re-queued (with the in-process queue: after it ran), for a progress display.

    Returns (events processed, jobs re-queued)."""
    queue = dispatcher.queue
    if on_job is not None:
        dispatcher.queue = ReportingQueue(queue, on_job)
    try:
        submissions = jobs.desk(settings)
        processed = dispatcher.catch_up(submissions)

        def pending() -> list[tuple[Stage, str]]:
            """The listings, caught up the same way, say what waits: no scan of the log."""
            waiting = listings(submissions).pending_work()
            return [(work.stage, str(work.submission_id)) for work in waiting]  # type: ignore[misc]

        return processed, len(reconcile(dispatcher.queue, pending))
    finally:
        dispatcher.queue = queue


class ReportingQueue:
    """A job queue that tells ``on_job`` about each job it queued; the rest is the queue's."""

    def __init__(self, queue: JobQueue, on_job: Callable[[Stage, str], None]) -> None:
        self.queue = queue
        self.on_job = on_job

    def enqueue(self, stage: Stage, submission_id: str) -> bool:
        queued = self.queue.enqueue(stage, submission_id)
        if queued:
            self.on_job(stage, submission_id)
        return queued

    def state(self, stage: Stage, submission_id: str) -> JobState:
        return self.queue.state(stage, submission_id)

    def requeue(self, stage: Stage, submission_id: str) -> None:
        self.queue.requeue(stage, submission_id)
        self.on_job(stage, submission_id)
