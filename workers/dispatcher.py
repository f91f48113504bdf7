"""The outbox: follow the ledger's notification log and queue the work its events ask for.

The dispatcher is one of the library's projections: it reads notifications after the last one
it tracked, queues a job for each event that asks for work, and records its position in a
tracking table, so that it can stop at any moment and carry on where it was. Queueing comes
before tracking: after a crash the last event may be queued again, which the queue's job-id
claim turns into nothing.

Read models that only this process needs current (its ``followers``: the run durations the
metrics read) are caught up in the same round.

The reconciler is the safety net for what the log cannot see: a job that vanished (Redis
restarted or was flushed) or whose worker died mid-run. It asks the submissions listing which
submissions still wait for a result and queues again every one whose job is neither waiting nor
running, and still waits when the listing is asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from ledger.read_models import LOG_NAME, catch_up
from workers.queues import JobQueue, Stage

TRACKING_NAME = LOG_NAME  # every application writes to one log, so one position covers all
BATCH = 100


class Dispatcher(Projection[TrackingRecorder]):
    name = "dispatcher"

    def __init__(
        self,
        view: TrackingRecorder,
        queue: JobQueue,
        stages: Mapping[type, Stage],
        followers: Sequence[Projection[Any]] = (),
    ) -> None:
        super().__init__(view)
        self.queue = queue
        self.stages = dict(stages)
        self.topics = tuple(get_topic(event_class) for event_class in self.stages)
        self.followers = tuple(followers)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        stage = self.stages.get(type(domain_event))
        if stage is not None:
            self.queue.enqueue(stage, str(domain_event.originator_id))
        self.view.insert_tracking(tracking)

    def catch_up(self, app: Application) -> int:
        """Process every notification not yet tracked; return how many events were processed.

        The same loop as every read model's (ledger.read_models.catch_up), on SQLite and
        PostgreSQL alike. Events that in-process jobs add while this runs are read too.
        The followers are caught up after it.
        """
        processed = catch_up(self, app, name=TRACKING_NAME, page=BATCH)
        for follower in self.followers:
            catch_up(follower, app)
        return processed


def reconcile(
    queue: JobQueue, pending: Callable[[], list[tuple[Stage, str]]]
) -> list[tuple[Stage, str]]:
    """Queue again the pending work whose job is lost; return what was queued.

    ``pending()`` reads the work that waits for a result from the ledger. The jobs' states are
    read one by one after it, and a job that finishes meanwhile reads "done" while the list
    still has it waiting: queued again, it would run a second time. A job's result is in the
    ledger before RQ records the job as over, so what looks lost is checked against a second
    reading of the pending work, taken after every state was read: only what still waits, at
    the same stage, is queued again."""
    lost = [work for work in pending() if queue.state(*work) not in ("waiting", "running")]
    if not lost:
        return []
    still = set(pending())
    requeued = [work for work in lost if work in still]
    for stage, submission_id in requeued:
        queue.requeue(stage, submission_id)
    return requeued
