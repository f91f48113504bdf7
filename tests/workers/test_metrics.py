"""The metrics port of a worker (workers/metrics.py): the state every face serves, and the
worker's own time per job by queue and outcome, scraped over HTTP as Prometheus would."""

from __future__ import annotations

import dataclasses
import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue

from tests.ledger.history import fill, make_settings
from workers.metrics import TimedWorker, serve_metrics


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_worker_serves_the_queues_and_its_own_time_per_job(tmp_path, postgres_url, redis_url):
    settings = make_settings(tmp_path / "home", postgres_url)
    fill(settings, 2)
    settings = dataclasses.replace(settings, redis_url=redis_url)
    port = free_port()
    server = serve_metrics(settings, "127.0.0.1", port, jobs=True)
    try:
        connection = Redis.from_url(redis_url)
        queue = Queue("scoring", connection=connection)
        queue.enqueue("os.getpid")
        queue.enqueue("operator.truediv", 1, 0)
        before = scrape(port)
        assert before[("huiyan_queue_jobs", (("queue", "scoring"), ("state", "queued")))] == 2
        assert before[("huiyan_ledger_entries", ())] == 4
        assert not [name for name, _ in before if name.startswith("huiyan_job_seconds")]

        TimedWorker([queue], connection=connection).work(burst=True)
        after = scrape(port)
        finished = (("outcome", "finished"), ("queue", "scoring"))
        failed = (("outcome", "failed"), ("queue", "scoring"))
        assert after[("huiyan_job_seconds_count", finished)] == 1
        assert after[("huiyan_job_seconds_count", failed)] == 1
        assert after[("huiyan_queue_jobs", (("queue", "scoring"), ("state", "queued")))] == 0
        assert after[("huiyan_queue_jobs", (("queue", "scoring"), ("state", "failed")))] == 1
        assert after[("huiyan_source_up", (("source", "redis"),))] == 1
        assert ("process_cpu_seconds_total", ()) in after
    finally:
        server.shutdown()
        server.server_close()
