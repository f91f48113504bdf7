"""What Prometheus learns of huiyan, computed at each scrape from the sources of truth (RQ's
registries on Redis, the ledger's tables, the record of verifications, the run durations'
read model), so that every process that serves it (each gunicorn worker behind /metrics, each
``huiyan worker --metrics-port``) gives the same answer. docs/operations.md lists the metrics.

A scrape only reads: RQ's registries are counted without their clean-up (which would move
abandoned jobs and call failure callbacks), and the read model is read, not caught up (the
dispatcher does that every round). A source that does not answer is reported as
``huiyan_source_up{source} 0`` and its metrics are left out, rather than failing the whole
scrape. Labels have bounded values (queues, states, streams, tracks): no team, no person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, worker_registration

from ledger.checkpoint_audit import checkpoints_table_name
from ledger.settings import Settings
from services.run_durations import RunStage, read_durations
from services.verification import STREAMS, Verifications
from workers.queues import STAGES

# Seconds. An inference may run up to HUIYAN_RUN_WALL_SECONDS (an hour by default).
BOUNDS: dict[RunStage, list[float]] = {
    "inference": [10, 30, 60, 120, 300, 600, 900, 1800, 2700, 3600, 7200],
    "scoring": [5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
}
STATES = ("queued", "started", "failed", "deferred", "scheduled")  # RQ's, read without clean-up
log = logging.getLogger(__name__)


class StateCollector:
    """The collector both faces register: queues and workers (with Redis), the ledger, the
    last verification of each stream and the run durations."""

    def __init__(self, settings: Settings, engine: sa.Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.redis = (
            Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
            if settings.redis_url
            else None
        )

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "huiyan_source_up",
            "1 when the source answered this scrape, 0 when its metrics are left out",
            labels=["source"],
        )
        sources: list[tuple[str, Callable[[], Iterable[Metric]], type[Exception]]] = [
            ("database", self._ledger, sa.exc.SQLAlchemyError)
        ]
        if self.redis is not None:
            sources.append(("redis", self._queues, RedisError))
        for source, read, failure in sources:
            try:
                families = list(read())
            except failure as error:
                log.warning("metrics: %s did not answer: %s", source, type(error).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield from self._verifications()
        yield up

    # --- the sources -----------------------------------------------------------------------

    def _queues(self) -> Iterator[Metric]:
        assert self.redis is not None
        jobs = GaugeMetricFamily(
            "huiyan_queue_jobs", "Jobs of each RQ queue in each state", labels=["queue", "state"]
        )
        workers = GaugeMetricFamily(
            "huiyan_workers", "Live RQ workers listening on each queue", labels=["queue"]
        )
        for stage in STAGES:
            queue = Queue(stage, connection=self.redis)
            for state in STATES:
                jobs.add_metric([stage, state], _jobs(queue, state))
            workers.add_metric([stage], self._live(worker_registration.get_keys(queue)))
        yield jobs
        yield workers

    def _live(self, worker_keys: Iterable[str]) -> int:
        """Workers whose own key has not expired: a worker killed with -9 leaves its name in
        RQ's set until another worker cleans it, but its key lapses after its heartbeat's TTL."""
        assert self.redis is not None
        with self.redis.pipeline() as pipe:
            for key in worker_keys:
                pipe.exists(key)
            return sum(pipe.execute())

    def _ledger(self) -> Iterator[Metric]:
        events = self.settings.events_table
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(events):
                return  # a fresh instance: no ledger yet
            head = conn.execute(sa.text(f"SELECT max(position) FROM {events}")).scalar()
            latest = None
            if sa.inspect(conn).has_table(checkpoints_table_name(events)):
                latest = conn.execute(
                    sa.text(
                        f"SELECT tree_size, issued_at FROM {checkpoints_table_name(events)} "
                        "ORDER BY id DESC LIMIT 1"
                    )
                ).first()
        yield GaugeMetricFamily(
            "huiyan_ledger_entries", "Entries in the ledger", 0 if head is None else head + 1
        )
        if latest is not None:
            size, issued_at = latest
            yield GaugeMetricFamily(
                "huiyan_ledger_checkpoint_entries", "Entries the latest checkpoint covers", size
            )
            yield GaugeMetricFamily(
                "huiyan_ledger_checkpoint_age_seconds",
                "Seconds since the latest checkpoint was issued",
                self._age(_aware(issued_at)),
            )
        for stage, bounds in BOUNDS.items():
            yield _histogram(stage, bounds, self.engine)

    def _verifications(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            "huiyan_verify_last_ok",
            "1 when the last finished verification of the stream found it intact, else 0",
            labels=["stream"],
        )
        entries = GaugeMetricFamily(
            "huiyan_verify_last_entries",
            "Entries the last finished verification of the stream checked",
            labels=["stream"],
        )
        age = GaugeMetricFamily(
            "huiyan_verify_last_age_seconds",
            "Seconds since the last verification of the stream finished",
            labels=["stream"],
        )
        record = Verifications(self.settings)
        for stream in STREAMS:
            run = record.last_finished(stream)
            if run is None:
                continue
            ok.add_metric([stream], 1 if run.state == "intact" else 0)
            entries.add_metric([stream], run.size)
            if run.finished_at:
                age.add_metric([stream], self._age(datetime.fromisoformat(run.finished_at)))
        yield from (ok, entries, age)

    def _age(self, moment: datetime) -> float:
        return max(0.0, (self.settings.now() - moment).total_seconds())


def _jobs(queue: Queue, state: str) -> int:
    """The queue's jobs in ``state``: waiting in its list, or in one of RQ's registries."""
    if state == "queued":
        return queue.count
    registry = getattr(queue, f"{state}_job_registry")
    return int(registry.get_job_count(cleanup=False))


def _histogram(stage: RunStage, bounds: list[float], engine: sa.Engine) -> Metric:
    what = {
        "inference": "Inference run time as the sandbox measured it, from the ledger",
        "scoring": "From the recorded end of inference to the recorded score, from the ledger",
    }[stage]
    family = HistogramMetricFamily(f"huiyan_{stage}_seconds", what, labels=["track"])
    for durations in read_durations(engine, stage, bounds):
        buckets = [(floatToGoString(b), n) for b, n in zip(bounds, durations.at_most, strict=True)]
        family.add_metric(
            [str(durations.track)],
            [*buckets, ("+Inf", durations.count)],
            durations.total_seconds,
        )
    return family


def _aware(moment: datetime) -> datetime:
    """SQLite keeps no offset: a naive time read back is taken as UTC (the system clock's;
    only a rehearsal's HUIYAN_CLOCK gives another). PostgreSQL keeps the zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
