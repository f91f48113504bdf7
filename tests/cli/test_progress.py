"""Progress displays: on a terminal's stderr only, silent in pipes, CI and --json."""

from __future__ import annotations

import io
import json
import sys

import pytest
from rich.console import Console
from rich.progress import Progress

import ledger.console
from ledger.console import QuietProgress, progress_display
from ledger.ledger import keyring_for
from ledger.verify import verify_ledger
from tests.ledger.history import fill, huiyan_for, make_settings
from workers.pipeline import ReportingQueue


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal_console(buffer: io.StringIO) -> Console:
    return Console(force_terminal=True, file=buffer, width=100)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


huiyan = huiyan_for


def test_a_terminal_gets_a_live_display():
    buffer = io.StringIO()
    with progress_display(console=terminal_console(buffer)) as bar:
        assert isinstance(bar, Progress)
        task = bar.add_task("checking entries", total=8)
        bar.update(task, completed=8)
    assert "checking entries" in buffer.getvalue()


@pytest.mark.parametrize("terminal, as_json", [(False, False), (True, True), (False, True)])
def test_no_terminal_or_json_writes_nothing(terminal, as_json):
    buffer = io.StringIO()
    console = Console(force_terminal=terminal, file=buffer)
    with progress_display(as_json=as_json, console=console) as bar:
        assert isinstance(bar, QuietProgress)
        task = bar.add_task("checking entries", total=8)
        bar.update(task, completed=4, description="still checking")
        bar.advance(task)
    assert buffer.getvalue() == ""


def test_the_default_display_is_on_stderr_when_stderr_is_a_terminal(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    stdout, stderr = io.StringIO(), FakeTerminal()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    with progress_display() as bar:
        assert isinstance(bar, Progress)
        task = bar.add_task("checking entries", total=2)
        print("the result")  # stdout stays the command's own, not routed through the display
        bar.advance(task)
    assert "checking entries" in stderr.getvalue()
    assert stdout.getvalue() == "the result\n"


def test_the_default_display_is_silent_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich alone would draw into this CI log
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with progress_display() as bar:
        assert isinstance(bar, QuietProgress)
        bar.add_task("checking entries", total=2)
    assert stderr.getvalue() == ""


def test_verify_reports_progress_up_to_the_ledger_size(settings):
    fill(settings, 5)  # 10 entries
    keys = keyring_for(settings).verifier_keys()
    for workers, serial_below in ((1, 10_000), (2, 0)):
        calls: list[tuple[int, int]] = []
        report = verify_ledger(
            settings.database_url,
            keys,
            chunk=4,
            workers=workers,
            serial_below=serial_below,
            progress=lambda done, size: calls.append((done, size)),  # noqa: B023
        )
        assert report.intact and report.size == 10
        assert calls == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_verify_json_stdout_is_only_the_json(settings, monkeypatch):
    fill(settings, 3)
    buffer = io.StringIO()
    monkeypatch.setattr(ledger.console, "_terminal_console", lambda: terminal_console(buffer))
    result = huiyan(settings, "ledger", "verify", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["size"] == 6
    assert result.stderr == ""
    assert buffer.getvalue() == ""


def test_verify_on_a_terminal_shows_progress_on_stderr_only(settings, monkeypatch):
    fill(settings, 3)
    buffer = io.StringIO()
    monkeypatch.setattr(ledger.console, "_terminal_console", lambda: terminal_console(buffer))
    result = huiyan(settings, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("intact: 6 entries") and result.stdout.count("\n") == 1
    assert "verify" in buffer.getvalue()


def test_verify_in_a_pipe_prints_no_progress(settings):
    fill(settings, 3)
    result = huiyan(settings, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("intact: 6 entries") and result.stdout.count("\n") == 1


class FakeQueue:
    def __init__(self) -> None:
        self.queued: set[tuple[str, str]] = set()

    def enqueue(self, stage, submission_id) -> bool:
        new = (stage, submission_id) not in self.queued
        self.queued.add((stage, submission_id))
        return new

    def state(self, stage, submission_id):
        return "waiting" if (stage, submission_id) in self.queued else "missing"

    def requeue(self, stage, submission_id) -> None:
        self.queued.add((stage, submission_id))


def test_the_dispatcher_reports_each_job_it_queued_once():
    seen: list[tuple[str, str]] = []
    queue = ReportingQueue(FakeQueue(), lambda stage, ident: seen.append((stage, ident)))
    assert queue.enqueue("inference", "a") is True
    assert queue.enqueue("inference", "a") is False  # already queued: not a new job
    assert queue.state("inference", "a") == "waiting"
    queue.requeue("scoring", "b")
    assert seen == [("inference", "a"), ("scoring", "b")]
