"""Real Redis, real worker processes: a killed worker, a flushed Redis and a job queued twice
still end with exactly one recorded result per submission."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq.job import Job

from scoring.baselines import bundle_path
from tests.flows import Huiyan, ready_to_submit, submit
from tests.workers.test_pipeline_embedded import events_of
from workers.pipeline import FUNCTIONS
from workers.queues import RQJobQueue

HUIYAN = str(Path(sys.executable).with_name("huiyan"))
DEADLINE = 240  # seconds for a submission to reach its result on a busy 2-core machine


@pytest.fixture
def huiyan(tmp_path, postgres_url, redis_url) -> Huiyan:
    return Huiyan(tmp_path / "home", postgres_url, redis_url)


def slow_bundle(tmp_path: Path, seconds: float) -> Path:
    """The track 7 baseline, made to think for a while first, so a test can strike mid-run."""
    folder = tmp_path / "slow-bundle"
    shutil.copytree(bundle_path(7), folder)
    (folder / "predict.py").rename(folder / "baseline.py")
    (folder / "predict.py").write_text(
        "import os, runpy, time\n"
        f"time.sleep({seconds})\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "runpy.run_path(os.path.join(here, 'baseline.py'), run_name='__main__')\n"
    )
    return folder


def start_worker(huiyan: Huiyan) -> subprocess.Popen:
    env = {**os.environ, **huiyan.env}
    return subprocess.Popen(
        [HUIYAN, "worker", "--queues", "inference", "--queues", "scoring"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_instance_processes(home: str) -> int:
    """kill -9 every process of this instance (the worker and the work horse it forked)."""
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"HUIYAN_HOME={home}".encode() in environ:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return killed


def wait_for(predicate, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def status(huiyan: Huiyan, submission: str) -> str:
    return json.loads(huiyan.ok("submission", "show", submission))["status"]


def dispatch_until_final(huiyan: Huiyan, submission: str) -> None:
    def final() -> bool:
        huiyan.ok("dispatcher", "--once")
        return status(huiyan, submission) in ("scored", "failed")

    wait_for(final, f"submission {submission} to reach a result")


def assert_one_result(huiyan: Huiyan, submission: str) -> None:
    names = events_of(huiyan.env["HUIYAN_DATABASE_URL"], submission)
    assert status(huiyan, submission) == "scored", names
    assert names.count("InferenceCompleted") == 1, names
    assert names.count("ScoreComputed") == 1, names
    assert names.count("InferenceFailed") == 0, names


@pytest.fixture
def workers():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_replaced_and_the_result_recorded_once(
    huiyan, tmp_path, workers
):
    team = ready_to_submit(huiyan, tmp_path)
    workers.append(start_worker(huiyan))
    submission = submit(huiyan, team, tmp_path, model=slow_bundle(tmp_path, 8))
    huiyan.ok("dispatcher", "--once")
    url = huiyan.env["HUIYAN_DATABASE_URL"]
    wait_for(lambda: "InferenceStarted" in events_of(url, submission), "the job to start")
    assert kill_instance_processes(huiyan.env["HUIYAN_HOME"]) >= 2  # worker and work horse
    workers.append(start_worker(huiyan))
    dispatch_until_final(huiyan, submission)
    assert_one_result(huiyan, submission)


@pytest.mark.slow
def test_redis_flushed_mid_run_still_ends_with_one_result(huiyan, tmp_path, workers):
    team = ready_to_submit(huiyan, tmp_path)
    workers.append(start_worker(huiyan))
    submission = submit(huiyan, team, tmp_path, model=slow_bundle(tmp_path, 5))
    huiyan.ok("dispatcher", "--once")
    url = huiyan.env["HUIYAN_DATABASE_URL"]
    wait_for(lambda: "InferenceStarted" in events_of(url, submission), "the job to start")
    redis = Redis.from_url(huiyan.env["HUIYAN_REDIS_URL"])
    job = Job.fetch(f"inference-{submission}", connection=redis)
    wait_for(lambda: job.get_meta(refresh=True).get("progress"), "the job to report progress")
    # Whether the model is still thinking or already done when Redis goes does not matter
    # (no timing is assumed): either way exactly one result must be recorded.
    progress = job.meta["progress"]
    assert progress["total"] == 8 and 0 <= progress["done"] <= 8
    redis.flushdb()
    dispatch_until_final(huiyan, submission)
    assert_one_result(huiyan, submission)


def test_the_same_event_queued_twice_is_one_job(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    submission = submit(huiyan, team, tmp_path)
    assert huiyan.ok("dispatcher", "--once") == "dispatched 1 events, re-queued 0 jobs"
    redis = Redis.from_url(huiyan.env["HUIYAN_REDIS_URL"])
    assert redis.llen("rq:queue:inference") == 1
    # Forget the dispatcher's position: it reads the Submitted event again, queues nothing new.
    engine = sa.create_engine(huiyan.env["HUIYAN_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM dispatcher_tracking"))
    engine.dispose()
    assert huiyan.ok("dispatcher", "--once") == "dispatched 1 events, re-queued 0 jobs"
    assert RQJobQueue(redis, FUNCTIONS).enqueue("inference", submission) is False
    assert redis.llen("rq:queue:inference") == 1
