"""The compose stack brought up for real (slow): the images built by deploy/images.sh, the
secrets made by deploy/compose-secrets.sh, every service on 127.0.0.1 and a port of its own
(host networking, no bridge), a witness initialised as an operator would; then every health
check turns green, the baseline submission made before the workers started is scored by
them, the checkpoint is cosigned by the witness, and the ledger verifies."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.flows import ROUND_TIME
from tests.support import unavailable

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
DEADLINE = 420  # seconds for the stack to come up, or a submission to be scored, on 2 cores
ORIGIN = "stack.huiyan.test/ledger"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command: str, env: dict[str, str] | None = None, check: bool = True,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:  # fmt: skip
    done = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)  # fmt: skip
    if check:
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done


class Stack:
    """One compose project of its own, on ports of its own, torn down with its volumes."""

    def __init__(self, work: Path) -> None:
        self.ports = {name: free_port() for name in ("postgres", "redis", "web", "witness")}
        self.env = {
            "COMPOSE_PROJECT_NAME": f"huiyantest{os.getpid()}",
            "HUIYAN_POSTGRES_PORT": str(self.ports["postgres"]),
            "HUIYAN_REDIS_PORT": str(self.ports["redis"]),
            "HUIYAN_WEB_PORT": str(self.ports["web"]),
            "HUIYAN_WEB_WORKERS": "2",
            "HUIYAN_WITNESS_PORT": str(self.ports["witness"]),
            "HUIYAN_SECRETS": str(work / "secrets"),
            "HUIYAN_LEDGER_ORIGIN": ORIGIN,
            "HUIYAN_ENV": "test",  # a rehearsal: its clock is frozen in the round
            "HUIYAN_CLOCK": ROUND_TIME,
            "HUIYAN_CHECKPOINT_SECONDS": "30",
        }
        self.database_url = (
            f"postgresql+psycopg://postgres@127.0.0.1:{self.ports['postgres']}/huiyan"
        )

    def compose(self, *args: str, check: bool = True, **env: str) -> str:
        done = run("docker-compose", "-f", str(COMPOSE_FILE), *args,
                   env={**self.env, **env}, check=check)  # fmt: skip
        return done.stdout

    def health(self) -> dict[str, str]:
        """Each running container's health; a container that is not running (or has no
        health check), its state and, once it exited, its exit code (``exited 0``)."""
        ids = self.compose("ps", "-q").split()
        if not ids:
            return {}
        inspected = json.loads(run("docker", "inspect", *ids).stdout)
        return {
            item["Config"]["Labels"]["com.docker.compose.service"]: (
                f"exited {item['State']['ExitCode']}"
                if item["State"]["Status"] == "exited"
                else item["State"].get("Health", {}).get("Status") or item["State"]["Status"]
            )
            for item in inspected
        }

    def wait_healthy(self, services: set[str]) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            health = self.health()
            if all(health.get(name) == "healthy" for name in services):
                return
            time.sleep(3)
        logs = self.compose("logs", "--tail=30", check=False)
        raise AssertionError(f"not healthy in {DEADLINE} s: {self.health()}\n{logs}")


@pytest.fixture
def stack() -> Iterator[Stack]:
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose", FileNotFoundError("docker-compose is not installed"))
    if run("docker", "info", check=False).returncode != 0:
        unavailable("the Docker engine", RuntimeError("docker info failed"))
    run("bash", "deploy/images.sh", "web", "worker-cpu", "postgres", "redis", timeout=1800)
    work = Path(tempfile.mkdtemp(prefix="huiyan-stack-"))
    run("bash", "deploy/compose-secrets.sh", str(work / "secrets"))
    made = Stack(work)
    try:
        yield made
    finally:
        made.compose("--profile", "cpu", "down", "--volumes", "--remove-orphans", check=False)
        shutil.rmtree(work, ignore_errors=True)


def test_the_stack_comes_up_healthy_and_scores_a_submission(stack: Stack) -> None:
    stack.compose("up", "-d", "postgres", "redis")
    stack.wait_healthy({"postgres", "redis"})
    # production refuses an empty database: the schema comes from the migration, once
    done = run("docker-compose", "-f", str(COMPOSE_FILE), "run", "--rm", "migrate",
               env=stack.env)  # fmt: skip
    assert "made the schema at revision" in done.stdout, done

    # the contest, made in a one-off web container (the image's own code, on the stack's
    # volumes and database) by the CLI harness of the tests, mounted read-only
    made = json.loads(stack.compose(
        "run", "--rm", "--no-deps", "-v", f"{ROOT / 'tests'}:/opt/checks/tests:ro",
        "-v", f"{ROOT / 'docs' / 'examples'}:/opt/checks/docs/examples:ro",
        "-e", "PYTHONPATH=/opt/checks", "web",
        "python3", "-m", "tests.deploy.stack_contest", "/var/lib/huiyan", "/tmp/contest",
    ).splitlines()[-1])  # fmt: skip

    # the witness, initialised as an operator does, then named to the log's services
    witness_key = stack.compose(
        "run", "--rm", "--no-deps", "witness", "huiyan", "audit", "witness", "init",
        "--origin", ORIGIN, "--name", "witness.test/w1", "--dir", "/var/lib/huiyan/witness",
        *[arg for key in made["log_keys"] for arg in ("--log-key", key)],
    ).split()[-1]  # fmt: skip
    stack.env["HUIYAN_WITNESSES"] = f"http://127.0.0.1:{stack.ports['witness']} {witness_key}"

    stack.compose("--profile", "cpu", "up", "-d")
    services = {"postgres", "redis", "web", "dispatcher", "scoring", "inference-cpu",
                "checkpointer", "verifier", "witness"}  # fmt: skip
    stack.wait_healthy(services)
    # the migration ran (again: nothing to do) and exited; no GPU worker without --profile gpu
    assert stack.health() == {**dict.fromkeys(services, "healthy"), "migrate": "exited 0"}

    # the submission made before any worker ran is scored by the stack's own workers
    engine = sa.create_engine(stack.database_url, connect_args={
        "passfile": stack.env["HUIYAN_SECRETS"] + "/pgpass"})  # fmt: skip
    deadline = time.monotonic() + DEADLINE
    try:
        while True:
            with engine.connect() as connection:
                topics = connection.execute(sa.text(
                    "SELECT topic FROM ledger_events WHERE originator_id = :submission"
                ), {"submission": made["submission"]}).scalars().all()  # fmt: skip
            if any(topic.endswith("ScoreComputed") for topic in topics):
                break
            assert not any(topic.endswith("Failed") for topic in topics), topics
            assert time.monotonic() < deadline, (topics, stack.compose("logs", "--tail=40"))
            time.sleep(3)
    finally:
        engine.dispose()
    assert sum(topic.endswith("ScoreComputed") for topic in topics) == 1

    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['web']}/healthz") as answer:
        assert json.load(answer) == {"status": "ok"}
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['web']}/ledger") as answer:
        assert answer.status == 200
    # the metrics, to the bearer of the stack's token: the ledger and the queues as they are
    token = (Path(stack.env["HUIYAN_SECRETS"]) / "metrics_token").read_text().strip()
    scrape = urllib.request.Request(f"http://127.0.0.1:{stack.ports['web']}/metrics",
                                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    with urllib.request.urlopen(scrape) as answer:
        samples = {(s.name, s.labels.get("queue"), s.labels.get("state")): s.value
                   for family in text_string_to_metric_families(answer.read().decode())
                   for s in family.samples}  # fmt: skip
    assert samples[("huiyan_ledger_entries", None, None)] > 0
    assert samples[("huiyan_queue_jobs", "inference", "queued")] == 0

    # a checkpoint now, cosigned by the witness; the whole ledger verifies with its key
    note = stack.compose("exec", "-T", "checkpointer", "huiyan", "ledger", "checkpoint")
    assert "witness.test/w1" in note
    verdict = stack.compose("exec", "-T", "web", "huiyan", "ledger", "verify",
                            "--witness-key", witness_key)  # fmt: skip
    assert "intact" in verdict
