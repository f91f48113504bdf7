"""Redis or the database away for a moment (a restart, a fail-over) ends nothing: the dispatcher
and the workers wait it out, and a platform fault is recorded only when RQ will not try again.
Found by bench/system.py, which restarts Redis under load (docs/benchmarks.md)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy.exc
from click.testing import CliRunner
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Callback, Queue, Retry, SimpleWorker

import workers.pipeline
from workers import cli, jobs
from workers.queues import LivenessWorker


class Stop(Exception):
    """Ends a service's endless loop in a test."""


def playing(outcomes):
    """A stand-in that raises or returns each of ``outcomes`` in turn, then stops the loop."""
    left = iter(outcomes)

    def play(*args, **kwargs):
        outcome = next(left, Stop())
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return play


@pytest.fixture
def service(monkeypatch, tmp_path):
    """A service's command with its identity check passed and no pause between rounds."""
    monkeypatch.setenv("HUIYAN_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "_as_service", lambda settings: None)
    monkeypatch.setattr(cli.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(workers.pipeline, "open_dispatcher", lambda settings: object())


def database_down() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_the_dispatcher_waits_out_redis_and_the_database_going_away(service, monkeypatch):
    rounds = [RedisConnectionError("refused"), database_down(), (2, 1), (0, 0)]
    monkeypatch.setattr(cli, "_dispatch_round", playing(rounds))
    result = CliRunner().invoke(cli.dispatcher, [])
    assert isinstance(result.exception, Stop), result.output  # every round was played
    assert result.stderr.splitlines() == [
        "dispatcher: Redis did not answer (ConnectionError); trying again every 2 s",
        "dispatcher: answered again after 2 failed rounds",
    ]
    assert result.stdout == "dispatched 2 events, re-queued 1 jobs\n"


def test_a_single_dispatcher_round_says_in_one_line_that_redis_did_not_answer(service, monkeypatch):
    monkeypatch.setattr(cli, "_dispatch_round", playing([RedisConnectionError("refused")]))
    result = CliRunner().invoke(cli.dispatcher, ["--once"])
    assert result.exit_code == 2
    assert result.stderr == "error: Redis did not answer; try again\n"


def test_a_bug_still_ends_the_dispatcher(service, monkeypatch):
    monkeypatch.setattr(cli, "_dispatch_round", playing([KeyError("a bug")]))
    assert isinstance(CliRunner().invoke(cli.dispatcher, []).exception, KeyError)


def test_a_worker_that_rq_quits_because_redis_went_mid_job_starts_again(
    service, monkeypatch, redis_url
):
    monkeypatch.setenv("HUIYAN_REDIS_URL", redis_url)
    monkeypatch.setattr(jobs, "isolation_problem", lambda settings: None)
    worked = playing([RedisConnectionError("closed by server"), None])
    calls = []
    monkeypatch.setattr(
        LivenessWorker, "work", lambda self, **options: calls.append(options) or worked()
    )
    result = CliRunner().invoke(cli.worker, [])
    assert result.exit_code == 0, result.output
    assert len(calls) == 2  # a second worker took over once Redis answered
    assert "worker: Redis went away during a job (ConnectionError)" in result.stderr


# --- retries: RQ calls the failure callback after every failed try -------------------------------


def fails(*args):
    raise jobs.PlatformFault("a passing fault")


def remember_retry(job, connection, kind, value, traceback):
    connection.rpush("seen", int(job.should_retry))


def test_rq_calls_the_failure_callback_on_a_try_it_will_retry(redis_url):
    """Pins the library's behaviour that the give-up callbacks must allow for."""
    redis = Redis.from_url(redis_url)
    queue = Queue("inference", connection=redis)
    queue.enqueue(fails, retry=Retry(max=1), on_failure=Callback(remember_retry))
    SimpleWorker([queue], connection=redis).work(burst=True)
    # Called after both tries: the first with a retry to come, then after the last one.
    assert redis.lrange("seen", 0, -1) == [b"1", b"0"]


@pytest.mark.parametrize("gave_up", [jobs.inference_gave_up, jobs.scoring_gave_up])
def test_a_platform_fault_is_recorded_only_after_the_last_try(monkeypatch, tmp_path, gave_up):
    monkeypatch.setenv("HUIYAN_HOME", str(tmp_path))
    recorded = []

    class Desk:
        def fail_inference(self, submission_id, **report):
            recorded.append(report["reason"])

        def fail_scoring(self, submission_id, **report):
            recorded.append("scoring")

    monkeypatch.setattr(jobs, "desk", lambda settings: Desk())
    meta = {"submission_id": "6c2a5773-1e3c-4de9-a7c7-0c6add048be0"}
    fault = jobs.PlatformFault("a passing fault")
    gave_up(SimpleNamespace(id="j", meta=meta, should_retry=True), None, None, fault, None)
    assert recorded == []  # RQ tries again: nothing is final yet
    gave_up(SimpleNamespace(id="j", meta=meta, should_retry=False), None, None, fault, None)
    assert recorded in (["platform_fault"], ["scoring"])
