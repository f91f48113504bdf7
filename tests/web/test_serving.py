"""``huiyan serve`` (docs/web/serving.md): gunicorn with the deployment's settings serves the
application from several workers of a fresh instance, logs no query string, and Flask's
debugger is refused where it would be dangerous."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
import pytest
from click.testing import CliRunner

from huiyan_cli import main

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serving(env: dict[str, str], port: int, log: IO[str], *options: str) -> subprocess.Popen:
    """``huiyan serve`` on ``port`` in a process of its own, its output to ``log``."""
    command = [sys.executable, "-c", "from huiyan_cli import main; main()", "serve"]
    return subprocess.Popen(
        [*command, "--port", str(port), *options],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_gunicorn_serves_a_fresh_instance_and_logs_no_query_string(tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "HUIYAN_HOME": str(tmp_path / "home"), "HUIYAN_DATABASE_URL": "",
           "HUIYAN_CLOCK": "2026-06-20T10:00:00+08:00", "HUIYAN_ENV": "development"}  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    server = start_serving(env, port, log, "--workers", "2", "--threads", "2")
    try:
        answers = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(answers) < 6:
            try:
                answers.append(
                    httpx.get(f"http://127.0.0.1:{port}/sign-in?next=/team/&token=s3cr3t")
                )
            except httpx.TransportError:
                time.sleep(0.5)
        assert len(answers) == 6 and all(a.status_code == 200 for a in answers)
        # The application's own headers, through gunicorn.
        assert "script-src 'self'" in answers[0].headers["content-security-policy"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert "Booting worker" in text and "Worker failed to boot" not in text, text[-3000:]
    # Both workers booted on the empty instance (neither raced the other to its tables).
    assert text.count("Booting worker") >= 2 and "Traceback" not in text, text[-3000:]
    assert '"GET /sign-in HTTP/1.1" 200' in text, text[-3000:]
    assert "s3cr3t" not in text and "token=" not in text


@pytest.mark.parametrize(
    "env, options, refusal",
    [
        ({"HUIYAN_ENV": "production"}, [], "--debug is refused with HUIYAN_ENV=production"),
        ({}, ["--host", "0.0.0.0"], "--debug serves on loopback only"),
    ],
)
def test_the_debugger_is_refused_in_production_and_off_loopback(tmp_path, env, options,
                                                                 refusal) -> None:  # fmt: skip
    settings = {"HUIYAN_HOME": str(tmp_path), "HUIYAN_DATABASE_URL": "", "HUIYAN_CLOCK": "",
                "HUIYAN_LEDGER_KEY": "", **env}  # fmt: skip
    result = CliRunner().invoke(main, ["serve", "--debug", *options], env=settings)
    assert result.exit_code != 0
    assert refusal in result.output
