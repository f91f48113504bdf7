"""Audit benchmark: one matter's timeline and its state as of a position, in a large ledger.
Prints, asserts nothing.

    .venv/bin/python -m bench.audit [--events 1000000] [--reads 20] [--database-url URL]

It fills a fresh ledger (a SQLite file unless ``--database-url``) with ``--events`` signed,
chained events of other aggregates (500 a transaction, through the chaining recorder), then
records one matter: an entry under review (opened, its report checked, assigned, re-opened
by an appeal, assigned again) and its appeal (filed, drawn, ruled, remedied), through the
aggregates' own methods. It then times, over ``--reads`` runs each (median and worst),
``audit.matter.timeline`` of the matter (every event with both signature checks) and the
matter's aggregates replayed as of the middle of its history (``huiyan audit state``'s code).
Target: < 200 ms each at 10^6 events.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from audit.matter import timeline
from domain.appeals import Appeal
from domain.judging import Judging
from domain.review import Review
from ledger.application import open_application
from ledger.ledger import Ledger
from ledger.settings import Settings

AT = datetime(2026, 10, 2, 2, tzinfo=UTC)
STATE = b'{"team_id":"5f0c2b1e8d7a4c3b9e6f1a2d3c4b5a69","track":1,"sha256":"' + b"ab" * 32 + b'"}'
BATCH = 500


def fill(app: Judging, events: int) -> None:
    started = time.perf_counter()
    for done in range(0, events, BATCH):
        batch = [
            StoredEvent(uuid4(), 1, "domain.teams:Team.Registered", STATE)
            for _ in range(min(BATCH, events - done))
        ]
        app.recorder.insert_events(batch)
        if done and done % 100_000 == 0:
            rate = done / (time.perf_counter() - started)
            print(f"  filled {done:,} events ({rate:,.0f}/s)", flush=True)


def matter(app: Judging) -> list:
    """A reviewed entry with a re-review, and its appeal: 9 events."""
    team, contest, by = uuid4(), uuid4(), uuid4()
    review = Review.open(contest_id=contest, track=1, team_id=team, submission_id=uuid4(),
                         pseudonym="T1-7F3A", by=by, now=AT)  # fmt: skip
    review.check_report(source_sha256="a" * 64, sanitised_sha256="b" * 64, hit_kinds=[], now=AT)
    review.assign([uuid4(), uuid4(), uuid4()], now=AT)
    appeal = Appeal.file(contest_id=contest, team_id=team, track=1,
                         submission_id=review.submission_id, item="expert", number=1,
                         reasons_sha256="c" * 64, evidence=[], items=("expert",), closes=AT,
                         by=by, now=AT)  # fmt: skip
    arbitrator = uuid4()
    appeal.draw([arbitrator], now=AT)
    appeal.rule(arbitrator=arbitrator, outcome="upheld", remedy={"kind": "rereview"},
                reasons_sha256="d" * 64, remedies=("rereview",), now=AT)  # fmt: skip
    review.reopen(appeal_id=appeal.id, now=AT)
    appeal.record_remedy("rereview", detail={"round": 2}, now=AT)
    app.save(review, appeal)
    review.assign([uuid4(), uuid4(), uuid4()], now=AT)
    app.save(review)
    return [review.id, appeal.id]


def timed(action, reads: int) -> tuple[float, float]:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huiyan-bench-audit-") as folder:
        url = options.database_url or f"sqlite:///{Path(folder) / 'ledger.sqlite3'}"
        settings = Settings.from_env({"HUIYAN_HOME": folder, "HUIYAN_DATABASE_URL": url})
        app = open_application(Judging, settings)
        print(f"filling {options.events:,} events ...", flush=True)
        fill(app, options.events)
        ids = matter(app)
        ledger = Ledger.from_settings(settings)
        lines = timeline(ledger, ids)
        middle = lines[len(lines) // 2]["position"]

        def state() -> None:
            for ident in ids:
                entries = [e for e in ledger.entries_of([ident]) if e.position <= middle]
                app.repository.get(ident, version=max(e.originator_version for e in entries))

        print(f"ledger of {options.events + len(lines):,} events; a matter of {len(lines)}")
        for name, action in (("timeline", lambda: timeline(ledger, ids)), ("state as of", state)):
            median, worst = timed(action, options.reads)
            print(f"  {name:<12} median {median:7.1f} ms, worst {worst:7.1f} ms (target < 200 ms)")


if __name__ == "__main__":
    main()
