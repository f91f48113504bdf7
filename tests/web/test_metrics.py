"""``GET /metrics`` (web/metrics.py, services/metrics.py): only the bearer of the token gets an
answer; the answer is what the ledger, the record of verifications and RQ say at that moment,
a tampered row shows as a failed verification, and every label has a bounded set of values."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue, Worker

from services.metrics import STATES
from services.verification import STREAMS
from tests.ledger.attack import EVENTS, run_sql
from tests.ledger.history import NOW, fill, huiyan_for, make_settings
from tests.web.test_serving import free_port, start_serving
from web import create_app
from web.metrics import METHODS
from workers.pipeline import FUNCTIONS
from workers.queues import STAGES, RQJobQueue

TOKEN = secrets.token_hex(20)
LATER = NOW + timedelta(minutes=10)


@pytest.fixture
def settings(tmp_path, postgres_url):
    """A ledger of 6 entries with a checkpoint issued at NOW, seen ten minutes later."""
    made = make_settings(tmp_path / "home", postgres_url)
    fill(made, 3)
    assert huiyan_for(made, "ledger", "checkpoint").exit_code == 0
    return dataclasses.replace(made, metrics_token=TOKEN, clock=LATER)


def app_for(settings) -> Flask:
    return create_app(settings, config={"TESTING": True, "RATELIMIT_ENABLED": False})


def scrape(app: Flask) -> dict[str, list]:
    answer = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    families = text_string_to_metric_families(answer.get_data(as_text=True))
    return {family.name: family.samples for family in families}


def value(families: dict[str, list], name: str, **labels: str) -> float | None:
    """The one sample of ``name`` (a sample's own name, e.g. ``..._count``) with ``labels``."""
    family = name.removesuffix("_count").removesuffix("_sum").removesuffix("_total")
    found = [s.value for s in families.get(family, []) if s.name == name and s.labels == labels]
    assert len(found) <= 1
    return found[0] if found else None


def test_only_the_bearer_of_the_token_gets_an_answer(settings) -> None:
    without = app_for(dataclasses.replace(settings, metrics_token=None)).test_client()
    assert without.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    client = app_for(settings).test_client()
    for header in (None, "Bearer", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}"):
        headers = {} if header is None else {"Authorization": header}
        assert client.get("/metrics", headers=headers).status_code == 404, header
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_the_ledger_and_its_last_verification_as_prometheus_reads_them(settings) -> None:
    app = app_for(settings)
    first = scrape(app)
    assert value(first, "huiyan_ledger_entries") == 6
    assert value(first, "huiyan_ledger_checkpoint_entries") == 6
    assert value(first, "huiyan_ledger_checkpoint_age_seconds") == 600
    assert value(first, "huiyan_source_up", source="database") == 1
    assert first["huiyan_verify_last_ok"] == []  # never verified

    assert huiyan_for(settings, "ledger", "verify", "--record").exit_code == 0
    intact = scrape(app)
    assert value(intact, "huiyan_verify_last_ok", stream="contest") == 1
    assert value(intact, "huiyan_verify_last_entries", stream="contest") == 6
    assert value(intact, "huiyan_verify_last_age_seconds", stream="contest") == 600

    run_sql(settings, f"UPDATE {EVENTS} SET state = :s WHERE position = 2", s=b'{"title":"x"}')
    assert huiyan_for(settings, "ledger", "verify", "--record").exit_code == 1
    tampered = scrape(app)
    assert value(tampered, "huiyan_verify_last_ok", stream="contest") == 0
    assert value(tampered, "huiyan_verify_last_entries", stream="contest") == 6
    assert value(tampered, "huiyan_verify_last_ok", stream="access") is None


def test_verify_records_a_run_it_could_not_make_and_only_of_this_instance(settings) -> None:
    refused = huiyan_for(settings, "ledger", "verify", "--record", "--database-url", "sqlite://")
    assert refused.exit_code == 2
    assert "--record keeps runs of this instance's ledger" in refused.stderr
    broken = huiyan_for(settings, "ledger", "verify", "--record", "--keys", "/nonexistent")
    assert broken.exit_code == 2
    assert value(scrape(app_for(settings)), "huiyan_verify_last_ok", stream="contest") == 0


def test_verify_refuses_to_start_when_its_verdict_cannot_be_kept(settings) -> None:
    """A record folder that cannot be written (a share prepared without it, a file in its
    place) stops the run before the work, with one line, not a traceback after it."""
    (settings.home / "verifications").write_text("not a folder")
    refused = huiyan_for(settings, "ledger", "verify", "--record")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: --record cannot write the verdict to ")
    assert "Traceback" not in refused.output


def test_queue_depth_and_live_workers_come_from_redis(settings, redis_url) -> None:
    app = app_for(dataclasses.replace(settings, redis_url=redis_url))
    assert value(scrape(app), "huiyan_queue_jobs", queue="inference", state="queued") == 0
    queue = RQJobQueue(Redis.from_url(redis_url), FUNCTIONS)
    for _ in range(2):
        queue.enqueue("inference", str(uuid.uuid4()))
    queue.enqueue("scoring", str(uuid.uuid4()))
    queued = scrape(app)
    assert value(queued, "huiyan_queue_jobs", queue="inference", state="queued") == 2
    assert value(queued, "huiyan_queue_jobs", queue="scoring", state="queued") == 1
    assert value(queued, "huiyan_queue_jobs", queue="scoring", state="failed") == 0
    assert value(queued, "huiyan_source_up", source="redis") == 1

    connection = Redis.from_url(redis_url)
    worker = Worker([Queue("inference", connection=connection)], connection=connection)
    worker.register_birth()
    assert value(scrape(app), "huiyan_workers", queue="inference") == 1
    assert value(scrape(app), "huiyan_workers", queue="scoring") == 0
    connection.delete(worker.key)  # what a worker killed with -9 leaves once its key lapses
    assert value(scrape(app), "huiyan_workers", queue="inference") == 0


def test_a_redis_that_does_not_answer_leaves_out_its_metrics_only(settings) -> None:
    app = app_for(dataclasses.replace(settings, redis_url="redis://127.0.0.1:9/0"))
    families = scrape(app)
    assert value(families, "huiyan_source_up", source="redis") == 0
    assert families.get("huiyan_queue_jobs", []) == []
    assert value(families, "huiyan_ledger_entries") == 6


def test_every_label_has_a_bounded_set_of_values(settings, redis_url) -> None:
    app = app_for(dataclasses.replace(settings, redis_url=redis_url))
    client = app.test_client()
    client.get(f"/no/such/page/{uuid.uuid4()}")
    client.open("/", method="BREW")
    client.get("/")
    assert huiyan_for(settings, "ledger", "verify", "--record").exit_code == 0
    families = scrape(app)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} | {"unmatched"}
    allowed = {
        "method": METHODS | {"other"},
        "queue": set(STAGES),
        "state": set(STATES),
        "stream": set(STREAMS),
        "source": {"database", "redis"},
    }
    seen: dict[str, set[str]] = {}
    for samples in families.values():
        for sample in samples:
            for label, label_value in sample.labels.items():
                seen.setdefault(label, set()).add(label_value)
    for label, values in seen.items():
        if label in ("status", "track"):
            assert all(v.isdigit() for v in values), (label, values)
        elif label == "le":
            continue
        elif label == "endpoint":
            # route names, never paths: counters are per process, so an application another
            # test made in this process may have added its own route names
            assert all(re.fullmatch(r"[A-Za-z_]\w*(\.\w+)?", v) for v in values), values
        else:
            assert values <= allowed[label], (label, values - allowed[label])
    assert {"unmatched", "public.index", "metrics.metrics"} <= seen["endpoint"] & endpoints
    assert "other" in seen["method"]


@pytest.mark.slow
def test_under_gunicorn_every_worker_counts_into_one_answer(tmp_path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"a file a previous run left")
    port = free_port()
    env = {**os.environ, "HUIYAN_HOME": str(tmp_path / "home"), "HUIYAN_DATABASE_URL": "",
           "HUIYAN_CLOCK": LATER.isoformat(), "HUIYAN_ENV": "development", "HUIYAN_REDIS_URL": "",
           "HUIYAN_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(folder)}  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    server = start_serving(env, port, log, "--workers", "2", "--threads", "1")
    site = f"http://127.0.0.1:{port}"
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{site}/metrics", headers=bearer).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert not (folder / "counter_1.db").exists()
        sent = 0
        while sent < 200 and (sent < 20 or len(writers(folder)) < 2):
            assert httpx.get(f"{site}/").status_code == 200  # a new connection each time
            sent += 1
        answers = [httpx.get(f"{site}/metrics", headers=bearer) for _ in range(4)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    counted = {"endpoint": "public.index", "method": "GET", "status": "200"}
    for answer in answers:
        families = {f.name: f.samples for f in text_string_to_metric_families(answer.text)}
        assert value(families, "huiyan_http_requests_total", **counted) == sent
    assert len(writers(folder)) == 2  # both workers answered


def writers(folder: Path) -> set[str]:
    """The processes that counted requests (prometheus-client's file per process)."""
    return {path.stem.rpartition("_")[2] for path in folder.glob("counter_*.db")}
