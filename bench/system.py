"""Load-and-fault test of the whole system on one machine: PostgreSQL, a private Redis, the web
under gunicorn, one dispatcher and two RQ workers with the process sandbox, and ``--teams``
simulated teams signing in, uploading a baseline bundle and reading their results while a
worker is killed (-9) mid-job and replaced, and Redis is killed and started again.

    .venv/bin/python -m bench.system [--teams 200] [--time-limit 1200] [--track 7]
        [--cases 8] [--workers 2] [--web-workers 2] [--ramp 60] [--poll 3] [--keep]

Everything listens on 127.0.0.1. Before the clock starts, the contest is made through the
services, as the demo makes it (demo/registration.py: organiser, contest, rules, blacklist,
three teams), plus ``--teams`` teams, each led by a person with an account and a password of
their own, registered in ``--track``, submitted and approved by the organiser under their
signature; a ``worker`` service identity (its key file under HUIYAN_HOME); and the track's
hidden test set, ``--cases`` synthetic cases (``huiyan data synth``'s generator). Then the
services start, all with one environment (HUIYAN_HOME, HUIYAN_DATABASE_URL, HUIYAN_REDIS_URL,
HUIYAN_SANDBOX=process, a clock frozen in the round, PYTHONPATH = this checkout): a database
of its own on 127.0.0.1:5432 (``--database-name``, dropped at the end unless ``--keep``),
``redis-server`` on a free port keeping nothing on disk, ``huiyan serve --workers 2
--behind-proxy``, ``huiyan dispatcher`` and ``--workers`` ``huiyan worker --queues inference
--queues scoring``.

Each team (bench/teams.py), started evenly over ``--ramp`` seconds, is an httpx client of its
own: it signs in through the sign-in form, uploads the track's baseline bundle (a .tar.gz) and
a report through the submissions form, polls its submission's status every ``--poll`` seconds
(the status page's script polls every 3) until a result is final, then reads its results
page. The bench plays the TLS-ending proxy: each team's requests carry an address of its own
in X-Forwarded-For (2001:db8::/32, the documentation prefix), so the sign-in rate limit
counts per team as it would in production.

The faults: once a quarter of the teams have a result (or 30 % of the time limit passed), the
first RQ worker found running a job is killed with SIGKILL, with its work horse and sandbox,
and a new worker started; once half have one (or 60 % of the time passed), redis-server is
killed with SIGKILL and started again on the same port, empty.

At the end (every team done, or ``--time-limit`` seconds after the services started) it stops
the services and prints what the teams saw (accepted, refused, latencies, time to a result),
what the workers' logs say (runs per job, seconds per job) and what the ledger holds, counted
from its events (bench/evidence.py): submissions scored, failed by reason, **jobs lost**
(accepted but with no ScoreComputed, InferenceFailed or ScoringFailed), **duplicate results**
(a second result event for a submission, or a second event of one kind for one job id), the
events a submission made and their size; then runs ``huiyan ledger verify`` on both streams.
Exit status 1 unless jobs lost = 0, duplicates = 0 and verify passed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from bench import evidence
from bench.stack import Stack, create_database, drop_database
from bench.teams import Observed, Team, Visit, bundle_archive, one_team
from bench.web import ROOT, free_port, p95
from demo.cli import ROUND_OPEN, blank_pdf
from demo.registration import EXAMPLES, REHEARSAL_START, form_team, play_registration
from domain.registration import Registration
from domain.submissions import Submissions
from ledger.application import open_application
from ledger.settings import Settings
from ledger.vault import Vault
from scoring.synth import make_dataset
from services import identity, intake, organising
from services.desk import Desk
from services.submissions import RoundDesk, add_testset
from web.team_round import POLL_SECONDS

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROUND_CLOCK = ROUND_OPEN + timedelta(hours=1)  # the services' frozen clock, in the round
KILL_AT, RESTART_AT = 0.25, 0.5  # share of teams with a result (or of the time limit)
PROGRESS_SECONDS = 60


# --- the contest, before the clock starts -------------------------------------------------------


def person(number: int, sequence: int, role: str) -> intake.MemberSpec:
    """A fictional person's own record, with a valid resident ID number of their own."""
    born = (date(1990, 1, 1) + timedelta(days=number)).strftime("%Y%m%d")
    first17 = f"450103{born}{sequence:03d}"
    return intake.MemberSpec.model_validate({
        "name": f"Bench {role} {number}",
        "identity": {"type": "id_card", "number": first17 + identity.id_card_check(first17)},
        "organisation": "Bench University",
        "email": f"{role}-{number}@bench.example",
    })  # fmt: skip


def team_file(number: int, track: int) -> intake.TeamFile:
    """A team of two (the smallest allowed): its leader, and one member invited by e-mail."""
    return intake.TeamFile(
        path=Path(f"bench-team-{number}.yaml"), contest="huiyan-2026",
        name=f"Bench team {number:04d}", language="en", leader=person(number, 1, "leader"),
        invite=[f"member-{number}@bench.example"], tracks=((track, "self_built"),),
        identity_proof=[EXAMPLES / "documents" / "identity-proof-sample.pdf"],
    )  # fmt: skip


def prepare_contest(settings: Settings, args: argparse.Namespace, work: Path) -> list[Team]:
    """The demo's contest, ``args.teams`` approved teams in ``args.track``, the ``worker``
    service identity and the track's hidden test set; the teams' leaders' sign-ins."""
    registration = open_application(Registration, settings)
    summary = play_registration(settings, registration)
    vault = Vault(settings.keys_dir)
    organiser = registration.account_by_login(vault.keyed_hash("organiser")).actor
    signer = summary["signers"]["organiser"]
    clock = (REHEARSAL_START + timedelta(days=1, seconds=s) for s in itertools.count())
    teams = []
    for number in range(args.teams):
        login = f"bench-{number:04d}"
        member = (f"{login}-member", person(number, 2, "member"))
        team_id, _, people = form_team(
            settings, registration, team_file(number, args.track), login, [member], clock
        )
        registration.submit(team_id, actor=organiser, now=next(clock))
        registration.approve(team_id, actor=organiser, now=next(clock), signer=signer)
        teams.append(Team(login, people[0].password, f"2001:db8::{number + 1:x}"))
    desk = dataclasses.replace(Desk.open(settings), now=ROUND_OPEN)
    organising.open_service_account(desk, organiser, login="worker")
    testset = make_dataset(args.track, args.cases, work / "testset", seed=args.track)
    round_desk = RoundDesk(desk, open_application(Submissions, settings))
    add_testset(round_desk, desk.contest(None), args.track, testset, organiser)
    return teams


# --- the load and the faults ------------------------------------------------------------------


def busy_worker(stack: Stack) -> tuple[str, str] | None:
    """(name, job id) of one of the stack's live RQ workers running a job, inference first."""
    pids = {stack.processes[name].pid: name for name in stack.workers
            if stack.processes[name].poll() is None}  # fmt: skip
    connection = Redis(port=stack.redis_port)
    try:
        busy = [(pids[w.pid], job) for w in Worker.all(connection=connection)
                if w.pid in pids and (job := w.get_current_job_id())]  # fmt: skip
    except RedisError:
        return None
    finally:
        connection.close()
    busy.sort(key=lambda found: not found[1].startswith("inference-"))
    return busy[0] if busy else None


async def faults(stack: Stack, seen: Observed, teams: int, limit: float, say: Callable) -> None:
    """Kill a worker mid-job and start another; later, kill Redis and start it again."""

    async def until(share: float) -> None:
        while len(seen.final) < share * teams and seen.elapsed() < share * 1.2 * limit:
            await asyncio.sleep(1)

    await until(KILL_AT)
    while (found := busy_worker(stack)) is None:
        await asyncio.sleep(0.5)
    victim, job = found
    stack.kill_worker(victim)
    seen.faults.append(f"{victim} killed while it ran {job}")
    say(f"killed {victim} (kill -9, its work horse and sandbox too) while it ran {job}; "
        f"started {stack.start_worker()}")  # fmt: skip
    await until(RESTART_AT)
    await asyncio.to_thread(stack.restart_redis, 3.0)
    seen.faults.append("redis-server killed and started again empty")
    say("killed redis-server (kill -9), started it again empty on the same port after 3 s")


async def progress(stack: Stack, seen: Observed, say: Callable) -> None:
    while True:
        await asyncio.sleep(PROGRESS_SECONDS)
        died = ", ".join(f"{n} ({code})" for n, code in stack.died().items()) or "none"
        say(f"{len(seen.accepted)} accepted, {len(seen.final)} with a result, "
            f"{sum(seen.answers.values())} requests; died unasked: {died}")  # fmt: skip


async def load(stack: Stack, visit: Visit, teams: list[Team], args: argparse.Namespace,
               seen: Observed, say: Callable) -> None:  # fmt: skip
    """Every team's journey, the faults and a progress line, until the teams are done or
    the time limit."""
    gap = args.ramp / max(len(teams), 1)
    journeys = [one_team(team, visit, seen, n * gap) for n, team in enumerate(teams)]
    helpers = [asyncio.create_task(faults(stack, seen, len(teams), args.time_limit, say)),
               asyncio.create_task(progress(stack, seen, say))]  # fmt: skip
    try:
        await asyncio.wait_for(asyncio.gather(*journeys), timeout=args.time_limit)
    except TimeoutError:
        say(f"time limit of {args.time_limit:.0f} s reached")
    finally:
        for helper in helpers:
            helper.cancel()


# --- the run ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--time-limit", type=float, default=1200.0,
                        help="seconds from the services' start to the end of the load")  # fmt: skip
    parser.add_argument("--track", type=int, default=7, choices=range(1, 9))
    parser.add_argument("--cases", type=int, default=8, help="in the hidden test set")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn's")
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which teams start")
    parser.add_argument("--poll", type=float, default=POLL_SECONDS, help="status poll, seconds")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL, to create the db")
    parser.add_argument("--database-name", default="huiyan_system_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database and HUIYAN_HOME")
    args = parser.parse_args()
    # SIGTERM ends the bench as Ctrl-C does, through the blocks that stop everything; so does
    # SIGINT when a shell started the bench in the background (which ignores it there).
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.default_int_handler)
    home = Path(tempfile.mkdtemp(prefix="huiyan-bench-system-"))
    url = create_database(args.admin_url, args.database_name)
    passed = False
    try:
        passed = run(args, home, url)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: every process the bench started is stopped", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if not args.keep:
            drop_database(args.admin_url, args.database_name)
        print(f"HUIYAN_HOME {home}" + (" (kept)" if args.keep else " (logs under logs/)"))
    raise SystemExit(0 if passed else 1)


def run(args: argparse.Namespace, home: Path, url: str) -> bool:
    redis_port = free_port()
    env = {**os.environ, "HUIYAN_HOME": str(home), "HUIYAN_DATABASE_URL": url,
           "HUIYAN_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "HUIYAN_ENV": "development",
           "HUIYAN_SANDBOX": "process", "PYTHONPATH": str(ROOT)}  # fmt: skip
    env.pop("HUIYAN_SANDBOX_UNISOLATED", None)
    # The demo's steps open their desks from the environment: this process's is the bench's.
    os.environ.update({**env, "HUIYAN_CLOCK": ""})
    settings = Settings.from_env()
    started = time.perf_counter()
    teams = prepare_contest(settings, args, home / "work")
    heads = (evidence.head(url, settings.events_table),
             evidence.head(url, settings.access_events_table))  # fmt: skip
    print(f"contest ready: the demo's + {len(teams)} approved teams in track {args.track}, "
          f"a {args.cases}-case test set, {heads[0]} events, in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    env["HUIYAN_CLOCK"] = ROUND_CLOCK.isoformat()
    seen = Observed()

    def say(line: str) -> None:
        print(f"[{seen.elapsed():5.0f} s] {line}", flush=True)

    logs = home / "logs"
    report = blank_pdf(home / "work" / "report.pdf").read_bytes()
    with Stack(env, logs, redis_port) as stack:
        stack.start_redis()
        base = stack.start_web(args.web_workers)
        stack.start_dispatcher()
        for _ in range(args.workers):
            stack.start_worker()
        visit = Visit(base, args.track, bundle_archive(args.track), report, args.poll)
        seen.started = time.monotonic()
        say(f"services up: web {base} (gunicorn, {args.web_workers} workers), redis on port "
            f"{redis_port}, 1 dispatcher, {args.workers} workers; {len(teams)} teams start "
            f"over {args.ramp:.0f} s, polling every {args.poll:g} s")  # fmt: skip
        asyncio.run(load(stack, visit, teams, args, seen, say))
        load_seconds = seen.elapsed()
        died = stack.died()
        stack.stop_all()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\n== {args.teams} teams, track {args.track}, {args.cases} cases, "
          f"{args.workers} RQ workers, {args.web_workers} gunicorn workers, poll "
          f"{args.poll:g} s ==")  # fmt: skip
    print(f"load phase          {load_seconds:.0f} s; machine at the end: {uptime}")
    print(f"faults played       {'; '.join(seen.faults) or 'none'}")
    print(f"died unasked        {died or 'none'}")
    return verdict(env, settings, seen, load_seconds, heads, logs)


# --- the report ----------------------------------------------------------------------------------


def verdict(env: dict[str, str], settings: Settings, seen: Observed, load_seconds: float,
            heads: tuple[int, int], logs: Path) -> bool:  # fmt: skip
    """Print the figures; True when no job was lost, no result duplicated, verify passed."""
    ledger = evidence.read_ledger(settings)
    outcomes = ledger.outcomes()
    lost = ledger.lost({UUID(s) for s in seen.accepted})
    duplicates = ledger.duplicates()
    failed = sum(n for outcome, n in outcomes.items() if outcome != "scored")
    print(f"submissions         accepted {len(seen.accepted)} (ledger: {len(ledger.submitted)}),"
          f" scored {outcomes['scored']}, failed {failed}")  # fmt: skip
    for outcome, n in sorted(outcomes.items()):
        if outcome != "scored":
            print(f"  {outcome}: {n}")
    for why, n in seen.stopped.most_common():
        print(f"  a team stopped: {why}: {n}")
    requests = sum(len(t) for t in seen.times.values())
    print(f"throughput          {outcomes['scored'] / max(seen.last_result / 60, 1 / 60):.1f} "
          f"submissions scored/min (up to the last result, at {seen.last_result:.0f} s); "
          f"{requests / load_seconds:.1f} requests/s")  # fmt: skip
    if seen.waited:
        print(f"upload to result    p50 {statistics.median(seen.waited):.0f} s, "
              f"p95 {p95(seen.waited):.0f} s, max {max(seen.waited):.0f} s; results pages "
              f"read {seen.results_read}")  # fmt: skip
    print("\n".join(latencies(seen)))
    runs, took = evidence.runs_per_job(logs), evidence.job_seconds(logs)
    again = {job: n for job, n in runs.items() if n > 1}
    print(f"jobs                {sum(runs.values())} runs of {len(runs)} jobs; run more than once:"
          f" {len(again)} {sorted(again)[:4]}; re-queued by the reconciler: "
          f"{evidence.requeued(logs)}")  # fmt: skip
    for stage, seconds in sorted(took.items()):
        print(f"  {stage + ' job':<18}{len(seconds)} completed, p50 "
              f"{statistics.median(seconds):.1f} s, p95 {p95(seconds):.1f} s")  # fmt: skip
    per = max(len(ledger.submitted), 1)
    url = env["HUIYAN_DATABASE_URL"]
    streams = (("ledger", settings.events_table, heads[0]),
               ("access log", settings.access_events_table, heads[1]))  # fmt: skip
    for stream, table, after in streams:
        rows = evidence.appended(url, table, after)
        kinds = ", ".join(f"{kind} {n}" for kind, n in rows.kinds.most_common(8))
        print(f"{stream:<20}{rows.rows} events during the load = {rows.rows / per:.1f} per "
              f"submission; mean row {rows.mean_row:.0f} B, table with indexes "
              f"{rows.table_per_row:.0f} B a row ({kinds})")  # fmt: skip
    print(f"JOBS LOST           {len(lost)}" + (f" {sorted(map(str, lost))[:5]}" if lost else ""))
    print(f"DUPLICATE RESULTS   {len(duplicates)}" + (f" {duplicates[:5]}" if duplicates else ""))
    intact = []
    for stream in ("contest", "access"):
        passed, said, seconds = evidence.verify(env, stream)
        intact.append(passed)
        print(f"LEDGER VERIFY       --stream {stream}: {'passed' if passed else 'FAILED'} "
              f"in {seconds:.1f} s\n    " + said.replace("\n", "\n    "))  # fmt: skip
    return not lost and not duplicates and all(intact)


def latencies(seen: Observed) -> Iterator[str]:
    yield "| request | count | answers | p50 ms | p95 ms |"
    yield "| --- | --- | --- | --- | --- |"
    for kind, times in seen.times.items():
        answers = ", ".join(f"{status}×{n}" for (k, status), n in sorted(
            seen.answers.items(), key=str) if k == kind)  # fmt: skip
        yield (f"| {kind} | {len(times)} | {answers} | {statistics.median(times):.0f} | "
               f"{p95(times):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
