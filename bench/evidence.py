"""What a run of bench/system.py left behind, read after the services stopped: the
submissions' events as the ledger holds them (never the bench's own view), the size of what
was appended, the verdict of ``huiyan ledger verify``, and what the workers' and the
dispatcher's logs say about runs and re-queues."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.utils import get_topic

from bench.web import HUIYAN, ROOT
from domain.submissions import Submission, Submissions
from ledger.application import open_application
from ledger.settings import Settings

RESULTS = (Submission.ScoreComputed, Submission.InferenceFailed, Submission.ScoringFailed)
COUNTED = (Submission.Submitted, Submission.InferenceStarted, Submission.InferenceCompleted,
           *RESULTS)  # fmt: skip
_STARTED = re.compile(
    r": workers\.jobs\.run_\w+\(.*\((?P<job>(inference|scoring)-[0-9a-f-]{36})\)$"
)  # noqa: E501
_DONE = re.compile(r"Successfully completed workers\.jobs\.run_(?P<stage>\w+)\(.*\) job in "
                   r"(?P<h>\d+):(?P<m>\d+):(?P<s>[\d.]+)s")  # fmt: skip


@dataclasses.dataclass
class Ledgered:
    """The submissions' events as the ledger holds them."""

    events: dict[UUID, list[Any]]  # submission -> its counted events, in order

    @property
    def submitted(self) -> set[UUID]:
        return {s for s, found in self.events.items() if _named(found, "Submitted")}

    def results(self, submission: UUID) -> list[Any]:
        return [e for e in self.events.get(submission, []) if isinstance(e, RESULTS)]

    def outcomes(self) -> Counter:
        """scored, or failed: reason, per submission (by its first result)."""
        counted: Counter = Counter()
        for submission in self.submitted:
            results = self.results(submission)
            if not results:
                continue
            first = results[0]
            if isinstance(first, Submission.ScoreComputed):
                counted["scored"] += 1
            elif isinstance(first, Submission.ScoringFailed):
                counted["failed: scoring platform_fault"] += 1
            else:
                counted[f"failed: {first.reason}"] += 1
        return counted

    def lost(self, accepted: set[UUID]) -> set[UUID]:
        """Accepted (by the web, or recorded as submitted) and with no result."""
        return {s for s in self.submitted | accepted if not self.results(s)}

    def duplicates(self) -> list[str]:
        """A second result for one submission; a second event of one kind for one job."""
        found = []
        for submission, events in self.events.items():
            if len(results := self.results(submission)) > 1:
                found.append(f"{submission}: {len(results)} results")
            per_job = Counter((type(e).__name__, e.job_id) for e in events if hasattr(e, "job_id"))
            found += [f"{submission}: {n} × {name} for job {job}"
                      for (name, job), n in per_job.items() if n > 1]  # fmt: skip
        return found


def _named(events: list[Any], name: str) -> bool:
    return any(type(e).__name__ == name for e in events)


def read_ledger(settings: Settings) -> Ledgered:
    app = open_application(Submissions, settings)
    topics = [get_topic(cls) for cls in COUNTED]
    events: dict[UUID, list[Any]] = defaultdict(list)
    start = 1
    while page := app.recorder.select_notifications(start=start, limit=1000, topics=topics):
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            events[event.originator_id].append(event)
        start = page[-1].id + 1
    app.close()
    return Ledgered(dict(events))


@dataclasses.dataclass(frozen=True)
class Appended:
    """Rows a stream gained after a position."""

    rows: int
    kinds: Counter  # event kind -> rows
    mean_row: float  # bytes, PostgreSQL's pg_column_size of the row
    table_per_row: float  # bytes of the whole table with its indexes, per row


def appended(url: str, table: str, after: int) -> Appended:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            kinds = Counter({topic.rsplit(".", 1)[-1]: n for topic, n in conn.execute(sa.text(
                f"SELECT topic, count(*) FROM {table} WHERE position > :after "
                "GROUP BY topic"), {"after": after})})  # fmt: skip
            mean_row = conn.execute(sa.text(
                f"SELECT avg(pg_column_size(t.*)) FROM {table} t WHERE position > :a"
            ), {"a": after}).scalar() or 0.0  # fmt: skip
            size, rows = conn.execute(
                sa.text(f"SELECT pg_total_relation_size('{table}'), count(*) FROM {table}")
            ).one()
    finally:
        engine.dispose()
    return Appended(sum(kinds.values()), kinds, float(mean_row), size / max(rows, 1))


def head(url: str, table: str) -> int:
    """The last position of ``table``; 0 while it is empty or not made yet."""
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(table):
            return 0
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT coalesce(max(position), 0) FROM {table}")).scalar()
    finally:
        engine.dispose()


def verify(env: dict[str, str], stream: str) -> tuple[bool, str, float]:
    """``huiyan ledger verify --stream STREAM``: passed, its last lines, seconds."""
    started = time.perf_counter()
    done = subprocess.run([*HUIYAN, "ledger", "verify", "--stream", stream], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    said = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, "\n".join(said[-6:]), time.perf_counter() - started


def runs_per_job(logs: Path) -> Counter:
    """How many times the workers started each job, from RQ's lines in their logs."""
    started: Counter = Counter()
    for line in _lines(logs.glob("worker-*.log")):
        if found := _STARTED.search(line):
            started[found["job"]] += 1
    return started


def job_seconds(logs: Path) -> dict[str, list[float]]:
    """Wall seconds of each job that completed, per stage, from RQ's lines."""
    took: dict[str, list[float]] = defaultdict(list)
    for line in _lines(logs.glob("worker-*.log")):
        if found := _DONE.search(line):
            spent = timedelta(hours=int(found["h"]), minutes=int(found["m"]),
                              seconds=float(found["s"]))  # fmt: skip
            took[found["stage"]].append(spent.total_seconds())
    return took


def requeued(logs: Path) -> int:
    return sum(int(n) for n in re.findall(r"re-queued (\d+) jobs", _text(logs / "dispatcher.log")))


def _lines(paths: Any) -> Any:
    for path in paths:
        yield from _text(path).splitlines()


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
