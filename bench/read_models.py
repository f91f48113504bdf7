"""Read-model benchmark: a team's results and a contest's teams read from the listings, and the
listings rebuilt from zero. Prints, asserts nothing.

    .venv/bin/python -m bench.read_models [--teams 1000] [--tracks 8] [--submissions 20]
                                          [--database-url URL] [--reads 50]

It writes a synthetic round to a fresh ledger (a SQLite file unless ``--database-url``): each
team registered, entered in every track, submitted and approved; each submission submitted,
started, inferred and scored (4 events). The aggregates' own ``@event`` methods make the events
and the chaining recorder signs them, 2,000 aggregates a transaction; the contest's rules are
not checked (that is not what is measured). Then it rebuilds the listings from zero
(``huiyan read-models rebuild``'s code) and prints events/s, and times, over ``--reads`` reads
each (median and worst): a team's submissions, the contest's teams, and a catch-up that finds
nothing new (what every CLI read pays first).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from domain.submissions import Submission, Submissions
from domain.teams import Team
from ledger.application import open_application
from ledger.read_models import catch_up, rebuild
from ledger.settings import Settings
from web.read_models import open_listings

AT = datetime(2026, 8, 3, 2, tzinfo=UTC)
BY = uuid4()
CHUNK = 2000


def build(app: Submissions, teams: int, tracks: int, per_track: int) -> tuple[list, object]:
    contest_id = uuid4()
    team_ids, pending = [], []

    def flush() -> None:
        app.save(*pending)
        pending.clear()

    for number in range(teams):
        team = Team(
            id=uuid4(), contest_id=contest_id, name=f"team {number}", language="zh",
            members=[], by=BY, at=AT,
        )  # fmt: skip
        for track in range(1, tracks + 1):
            team._track_entered(track=track, group="self_built", by=BY, at=AT)
        team._submitted(review_sla_days=5, by=BY, at=AT)
        team._approved(reason="", by=BY, at=AT, personal_signature=None)
        team_ids.append(team.id)
        pending.append(team)
        for track in range(1, tracks + 1):
            for _ in range(per_track):
                pending.append(scored_submission(contest_id, team.id, track))
                if len(pending) >= CHUNK:
                    flush()
    flush()
    return team_ids, contest_id


def scored_submission(contest_id, team_id, track: int) -> Submission:
    submission = Submission(
        contest_id=contest_id, team_id=team_id, track=track, group="self_built",
        model_kind="bundle", model_ref="b" * 64, report_sha256="d" * 64,
        testset_sha256="1" * 64, truth_sha256="2" * 64, rules_version=1,
        rules_sha256="3" * 64, by=BY, at=AT,
    )  # fmt: skip
    submission._inference_started(job_id="i", runner="bench", at=AT)
    submission._inference_completed(
        job_id="i", predictions_sha256="e" * 64, output_sha256="e" * 64, sandbox_warnings=[],
        case_seconds={"c1": 1.0}, model_load_seconds=1.0, peak_ram_bytes=1, peak_gpu_bytes=None,
        runner_version="bench", log_sha256=None, at=AT,
    )  # fmt: skip
    submission._score_computed(
        job_id="s", breakdown={"primary": {"name": "cpm", "value": random.random()}},
        breakdown_sha256=None, rules_version=1, rules_sha256="3" * 64,
        predictions_sha256="e" * 64, truth_sha256="2" * 64, scoring_version="bench",
        gates_passed=True, efficiency=0.5, at=AT,
    )  # fmt: skip
    return submission


def timed(read, reads: int) -> tuple[float, float]:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument("--submissions", type=int, default=20, help="per team and track")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="huiyan-bench-rm-"))
    url = args.database_url or f"sqlite:///{home / 'ledger.sqlite3'}"
    app = open_application(Submissions, Settings(home=home, database_url=url, environment="test"))
    started = time.perf_counter()
    team_ids, contest_id = build(app, args.teams, args.tracks, args.submissions)
    events = app.recorder.max_notification_id() or 0
    print(
        f"built {args.teams} teams x {args.tracks} tracks x {args.submissions} submissions: "
        f"{events} events in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})"
    )
    projection = open_listings(app)
    processed, seconds = rebuild(projection, app)
    print(
        f"rebuild from zero: {processed} events in {seconds:.1f} s, "
        f"{processed / seconds:,.0f} events/s"
    )
    view = projection.view
    team = random.choice(team_ids)
    for label, read in (
        ("a team's submissions", lambda: view.submissions(team_id=team)),
        ("the contest's teams", lambda: view.teams(contest_id)),
        ("catch-up with nothing new", lambda: catch_up(projection, app)),
        (
            "catch-up + a team's submissions",
            lambda: (catch_up(projection, app), view.submissions(team_id=team)),
        ),
    ):
        median, worst = timed(read, args.reads)
        print(f"{label}: median {median:.2f} ms, worst {worst:.2f} ms over {args.reads} reads")


if __name__ == "__main__":
    main()
