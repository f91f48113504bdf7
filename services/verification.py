"""Verifications of the ledger started from the web, and the record of every run: when, who,
which stream, how far it got and what it found.

A run is ``huiyan ledger verify`` itself (:func:`ledger.cli.verify_stream`), in a thread of
the process that served the request. Its state is a small JSON file per run under
``$HUIYAN_HOME/verifications/``, rewritten atomically as it progresses, so that any worker
process of the deployment can answer a page that polls it, and the files together are the
record of runs the compliance pages show. A run whose process died stops being refreshed: it is
shown as interrupted once it has been silent for :data:`STALE`.

The thread verifies with one process (``workers=1``): forking worker processes from a threaded
web server risks inheriting a lock another thread held; the CLI stays the fast way for a very
large ledger.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.files import write_atomically
from ledger.report import Report
from ledger.settings import Settings

STREAMS = ("contest", "access")
STALE = 600.0  # seconds without a progress note before a running run counts as interrupted
NOTE_EVERY = 0.5  # seconds between progress notes written to disk
KEPT_PROBLEMS = 20

RUNNING, INTACT, NOT_INTACT, FAILED, INTERRUPTED = (
    "running",
    "intact",
    "not intact",
    "failed",
    "interrupted",
)

_STARTING = threading.Lock()  # one start at a time in a process: no twin runs of a stream

Verifier = Callable[[Settings, str, Callable[[int, int], None]], Report]


@dataclass
class Run:
    """One verification: who started it and when (the contest's clock), its progress and
    its result."""

    id: str
    stream: str
    who: str
    role: str
    started_at: str
    state: str = RUNNING
    done: int = 0
    size: int = 0
    finished_at: str | None = None
    root_hash: str = ""
    checkpoints_checked: list[int] = field(default_factory=list)
    first_bad_position: int | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    problems_left_out: int = 0
    error: str = ""
    beat: float = 0.0  # wall-clock seconds of the last note (for staleness only)

    @property
    def finished(self) -> bool:
        return self.state != RUNNING

    def shown(self) -> dict[str, Any]:
        """The run as a page or the progress endpoint shows it."""
        data = asdict(self)
        data.pop("beat")
        data["finished"] = self.finished
        data["percent"] = 100 if self.finished else _percent(self.done, self.size)
        return data


def _percent(done: int, size: int) -> int:
    return min(99, done * 100 // size) if size else 0


class Verifications:
    """The runs of one instance, in ``home/verifications``."""

    def __init__(self, settings: Settings, verifier: Verifier | None = None) -> None:
        self.settings = settings
        self.folder = settings.home / "verifications"
        self.verifier = verifier or _verify

    def start(self, stream: str, *, who: str, role: str, now: datetime) -> Run:
        """Start a run in a thread and return it; a run of the same stream still going is
        returned instead of a second one."""
        if stream not in STREAMS:
            raise ValueError(f"a stream is {' or '.join(STREAMS)}, not {stream!r}")
        with _STARTING:
            going = next((r for r in self.runs() if r.stream == stream and not r.finished), None)
            if going is not None:
                return going
            run = _new_run(stream, who=who, role=role, started=now)
            self._note(run)
        thread = threading.Thread(
            target=self._run, args=(run, now), name=f"verify-{run.id}", daemon=True
        )
        thread.start()
        return run

    def record(
        self,
        stream: str,
        *,
        who: str,
        role: str,
        started: datetime,
        report: Report | None,
        error: str = "",
    ) -> Run:
        """Keep a run made elsewhere (``huiyan ledger verify --record``, a nightly job): its
        report, or the error that kept it from verifying."""
        run = _new_run(stream, who=who, role=role, started=started)
        if report is None:
            run.state, run.error = FAILED, error
        else:
            _take(run, report)
        run.finished_at = _finished_at(started, self.settings)
        self._note(run)
        return run

    def get(self, run_id: str) -> Run | None:
        if not _valid_id(run_id):
            return None
        return self._read(self.folder / f"{run_id}.json")

    def runs(self) -> list[Run]:
        """Every recorded run, newest first."""
        if not self.folder.is_dir():
            return []
        found = [self._read(path) for path in self.folder.glob("*.json")]
        return sorted((r for r in found if r is not None), key=lambda r: r.id, reverse=True)

    def last_finished(self, stream: str = "contest") -> Run | None:
        """The run of ``stream`` that ended last: by the contest's clock, then (two runs in
        one second, or under a frozen clock) by the wall clock of its last note."""
        finished = [r for r in self.runs() if r.stream == stream and r.finished]
        return max(finished, key=_ended, default=None)

    # --- inside ----------------------------------------------------------------------------

    def _run(self, run: Run, now: datetime) -> None:
        last = [0.0]

        def progress(done: int, size: int) -> None:
            run.done, run.size = done, size
            if time.monotonic() - last[0] >= NOTE_EVERY or done == size:
                last[0] = time.monotonic()
                self._note(run)

        try:
            report = self.verifier(self.settings, run.stream, progress)
        except Exception as error:  # noqa: BLE001 - a run that cannot verify says so, as exit 2
            run.state, run.error = FAILED, _reason(error)
        else:
            _take(run, report)
        run.finished_at = _finished_at(now, self.settings)
        self._note(run)

    def _note(self, run: Run) -> None:
        run.beat = time.time()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(asdict(run), ensure_ascii=False, sort_keys=True).encode()
        write_atomically(self.folder / f"{run.id}.json", data, mode=0o600)

    def _read(self, path: Path) -> Run | None:
        try:
            run = Run(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not run.finished and time.time() - run.beat > STALE:
            run.state = INTERRUPTED
        return run


def _ended(run: Run) -> tuple[datetime, float]:
    return datetime.fromisoformat(run.finished_at or run.started_at), run.beat


def _new_run(stream: str, *, who: str, role: str, started: datetime) -> Run:
    return Run(
        id=started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4),
        stream=stream,
        who=who,
        role=role,
        started_at=started.isoformat(),
    )


def _verify(settings: Settings, stream: str, progress: Callable[[int, int], None]) -> Report:
    from ledger.cli import verify_stream

    return verify_stream(settings, stream=stream, workers=1, progress=progress)


def _take(run: Run, report: Report) -> None:
    run.state = INTACT if report.intact else NOT_INTACT
    run.done = run.size = report.size
    run.root_hash = report.root_hash
    run.checkpoints_checked = list(report.checkpoints_checked)
    run.first_bad_position = report.first_bad_position
    run.problems = [
        {"position": p.position, "kind": p.kind, "detail": p.detail}
        for p in report.problems[:KEPT_PROBLEMS]
    ]
    run.problems_left_out = report.problems_left_out + max(0, len(report.problems) - KEPT_PROBLEMS)


def _finished_at(started: datetime, settings: Settings) -> str:
    """When the run ended on the contest's clock (a frozen clock gives its start)."""
    return max(started, settings.now().astimezone(started.tzinfo)).isoformat()


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1]}" if text else type(error).__name__


def _valid_id(run_id: str) -> bool:
    head, _, tail = run_id.partition("-")
    return len(head) == 15 and head[:8].isdigit() and len(tail) == 8 and tail.isalnum()
