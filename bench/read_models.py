"""Read-model benchmark: a track's leaderboard and a team's results computed from the read
models, a team's submissions and a contest's teams read from the listings, an expert's tasks,
and every read model rebuilt from zero. Prints, asserts nothing.

    .venv/bin/python -m bench.read_models [--teams 1000] [--tracks 8] [--submissions 20]
                                          [--experts 60] [--database-url URL] [--reads 50]

It writes a synthetic round to a fresh ledger (a SQLite file unless ``--database-url``): each
team registered, entered in every track, submitted and approved; each submission submitted,
started, inferred and scored (4 events); then each team's last submission in each track
reviewed (opened with its pseudonym claim, report checked clean, three experts assigned, three
sheets: 6 events and a claim). The aggregates' own ``@event`` methods make the events and the
chaining recorder signs them, 2,000 aggregates a transaction; the contest's rules are not
checked (that is not what is measured). Then it rebuilds the listings and the judging rows from
zero (``huiyan read-models rebuild``'s code) and prints events/s; publishes each track's results
(mode ``full``, the standings from the rows); and times, over ``--reads`` reads each (median and
worst): a track's leaderboard and a team's results (services/standings.py, what ``results
leaderboard`` and ``results mine`` print, each catching both read models up first), a track's
standings, an expert's tasks, a team's submissions, the contest's teams, and a catch-up that
finds nothing new.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from domain.judging import Judging
from domain.results import Results
from domain.review import PseudonymClaim, Review
from domain.submissions import Submission
from domain.teams import Team
from ledger.application import open_application
from ledger.read_models import catch_up, rebuild
from ledger.settings import Settings
from scoring.rules import load_rules
from services import standings
from services.judging_read_models import open_judging, read_models
from services.read_models import open_listings

AT = datetime(2026, 8, 3, 2, tzinfo=UTC)
BY = uuid4()
CHUNK = 2000


RULES = load_rules()
LEVELS = sorted(RULES.expert_rubric.grades)


def build(
    app: Judging, teams: int, tracks: int, per_track: int, experts: list, contest_id=None
) -> tuple[list, object]:
    """The synthetic round, in a new contest or in ``contest_id`` (bench/web.py adds it to
    the demo's)."""
    contest_id = contest_id or uuid4()
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
                submission = scored_submission(contest_id, team.id, track)
                pending.append(submission)
                if len(pending) >= CHUNK:
                    flush()
            pending.extend(reviewed(contest_id, team.id, track, number, submission, experts))
    flush()
    return team_ids, contest_id


def reviewed(contest_id, team_id, track: int, number: int, submission, experts: list) -> list:
    """The team's entry in the track reviewed: a clean report, three experts, three sheets."""
    pseudonym = f"T{track}-{number:04X}"
    review = Review.open(
        contest_id=contest_id, track=track, team_id=team_id, submission_id=submission.id,
        pseudonym=pseudonym, by=BY, now=AT,
    )  # fmt: skip
    review.check_report(source_sha256="d" * 64, sanitised_sha256="5" * 64, hit_kinds=[], now=AT)
    chosen = random.sample(experts, 3)
    review.assign(chosen, now=AT)
    dimensions = RULES.expert_rubric.dimensions
    for expert in chosen:
        grades = {dimension: random.choice(LEVELS[2:]) for dimension in dimensions}
        review.score(expert=expert, grades=grades, dimensions=dimensions, levels=LEVELS, now=AT)
    claim = PseudonymClaim(contest_id=contest_id, pseudonym=pseudonym, review_id=review.id)
    return [review, claim]


def publish(app: Judging, contest_id, tracks: int) -> None:
    """Each track's results published in full, its standings computed from the rows (a bench
    may: the desk's publication reads the aggregates, which is not what is measured)."""
    results = Results(contest_id=contest_id)
    for track in range(1, tracks + 1):
        lines = standings.preliminary(app, contest_id, track, RULES)
        results.publish(
            track=track, mode="full", freeze_at=AT + timedelta(days=1),
            standings=[line.record() for line in lines], rules_version=1, by=BY, now=AT,
        )  # fmt: skip
    app.save(results)


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
    parser.add_argument("--experts", type=int, default=60)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="huiyan-bench-rm-"))
    url = args.database_url or f"sqlite:///{home / 'ledger.sqlite3'}"
    app = open_application(Judging, Settings(home=home, database_url=url, environment="test"))
    started = time.perf_counter()
    experts = [uuid4() for _ in range(args.experts)]
    team_ids, contest_id = build(app, args.teams, args.tracks, args.submissions, experts)
    events = app.recorder.max_notification_id() or 0
    print(
        f"built {args.teams} teams x {args.tracks} tracks x {args.submissions} submissions, "
        f"{args.teams * args.tracks} reviews: {events} events in "
        f"{time.perf_counter() - started:.1f} s ({url.split(':')[0]})"
    )
    total, took = 0, 0.0
    for name, projection in (
        ("the listings", open_listings(app)),
        ("the judging rows", open_judging(app)),
    ):
        processed, seconds = rebuild(projection, app)
        total, took = total + processed, took + seconds
        print(
            f"rebuild {name} from zero: {processed} events in {seconds:.1f} s, "
            f"{processed / seconds:,.0f} events/s"
        )
    print(f"rebuild every read model: {total} events in {took:.1f} s, {total / took:,.0f} events/s")
    publish(app, contest_id, args.tracks)
    models = read_models(app)
    view, projection = models.listings, models.projections[0]
    team, track, expert = random.choice(team_ids), random.randint(1, args.tracks), experts[0]
    tasks = len(models.judging.tasks(expert, contest_id))
    for label, read in (
        (
            f"a track's leaderboard ({args.teams} entries)",
            lambda: standings.leaderboard(app, contest_id, track, RULES),
        ),
        ("a team's results", lambda: standings.team_results(app, contest_id, track, team, RULES)),
        ("a track's standings", lambda: standings.preliminary(app, contest_id, track, RULES)),
        (
            f"an expert's tasks ({tasks} entries)",
            lambda: read_models(app).judging.tasks(expert, contest_id),
        ),
        ("a team's submissions", lambda: view.submissions(team_id=team)),
        ("the contest's teams", lambda: view.teams(contest_id)),
        ("catch-up with nothing new (the listings)", lambda: catch_up(projection, app)),
        ("catch-up with nothing new (both read models)", lambda: read_models(app)),
        (
            "catch-up + a team's submissions",
            lambda: (catch_up(projection, app), view.submissions(team_id=team)),
        ),
    ):
        median, worst = timed(read, args.reads)
        print(f"{label}: median {median:.2f} ms, worst {worst:.2f} ms over {args.reads} reads")


if __name__ == "__main__":
    main()
