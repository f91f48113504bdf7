"""The metrics a worker or the dispatcher serves with ``--metrics-port`` (docs/operations.md,
"Monitoring"): the collectors the web serves (services/metrics.py) and this process's own job
durations.

RQ forks a work horse for each job and the horse exits with it, so the job is timed here, in
the worker's own long-lived process around the horse (:class:`TimedWorker`): no metric is
written by a process that dies, and prometheus-client needs no multiprocess mode. The figures
are this process's since it started; the durations that survive a restart are the ledger's
(``huiyan_inference_seconds``, ``huiyan_scoring_seconds``).

The port has no authentication: it listens on loopback unless ``--metrics-host`` says
otherwise (a container's 0.0.0.0, behind the cluster's network policy). Its labels carry no
team and no person.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.process_collector import ProcessCollector
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import InvalidJobOperation
from rq.job import Job
from sqlalchemy.pool import NullPool

from ledger.settings import Settings
from services.metrics import StateCollector
from workers.queues import LivenessWorker

JOB_SECONDS = Histogram(
    "huiyan_job_seconds",
    "Seconds this worker spent on a job, by queue and the state the job ended in",
    ["queue", "outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400),
    registry=None,
)


class TimedWorker(LivenessWorker):
    """The worker that marks a job alive as it takes it (workers/queues.py), timing each job
    from the fork of its horse to its end."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        started = time.monotonic()
        try:
            super().execute_job(job, queue)
        finally:
            JOB_SECONDS.labels(queue.name, _outcome(job)).observe(time.monotonic() - started)


def _outcome(job: Job) -> str:
    """The job's state once its horse is gone: finished, failed, or scheduled / queued again
    for a retry; ``gone`` when its record has already expired, ``unknown`` when Redis does
    not answer (the worker's own loop then deals with Redis)."""
    try:
        return job.get_status(refresh=True).value
    except InvalidJobOperation:
        return "gone"
    except RedisError:
        return "unknown"


def serve_metrics(settings: Settings, host: str, port: int, *, jobs: bool) -> Any:
    """Serve the metrics on ``host:port`` from a thread of this process; ``jobs`` adds this
    worker's job durations. The database is opened per scrape (no pool): a pooled connection
    would be inherited by every forked horse."""
    registry = CollectorRegistry()
    postgres = settings.database_url.startswith("postgresql")
    engine = sa.create_engine(
        settings.database_url,
        poolclass=NullPool,
        connect_args={"connect_timeout": 5} if postgres else {},
    )
    registry.register(StateCollector(settings, engine))
    ProcessCollector(registry=registry)
    if jobs:
        registry.register(JOB_SECONDS)
    server, _ = start_http_server(port, addr=host, registry=registry)
    return server
