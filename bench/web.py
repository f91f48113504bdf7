"""Web benchmark: the demo's contest scaled to 1,000 teams, served by gunicorn on loopback,
and 50 concurrent clients reading the published leaderboard, a team's results and an
arbitrator's timeline of an appeal. Prints median and p95 per page; asserts nothing.

    .venv/bin/python -m bench.web [--teams 1000] [--tracks 8] [--submissions 20]
        [--clients 50] [--requests 1000] [--workers N] [--database-url URL]
        [--page NAME=ROLE:PATH ...]

The contest is the demo's own (demo/registration.py: its organiser, contest, rules and teams,
with their people's passwords), to which bench/read_models.py's builder adds ``--teams``
synthetic teams, each entered in every track with ``--submissions`` scored submissions per
track and its last one reviewed; the demo's approved teams get the same in their tracks. Each
track's results are published; the demo's experts and arbitrators are enrolled, and the
yongjiang team's leader appeals their track-7 quality figure, which draws arbitrators.

Then ``huiyan serve`` (gunicorn, the deployment's settings) runs on a free loopback port on
the bench's ledger, its clock frozen after the appeal; the team's leader and the appeal's
first arbitrator (password and TOTP code) sign in through the sign-in form, and each page is
read ``--requests`` times by ``--clients`` concurrent clients (asyncio, httpx), each with the
cookies of the role the page is for. A page is ``NAME=ROLE:PATH``; ROLE is public, team or
arbitrator; PATH may hold {track}, {team}, {appeal} and {contest}. The defaults name where the
team and arbitrator pages are meant to be; a page that answers 404 is reported as missing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pyotp

from bench.read_models import AT, build, publish, reviewed, scored_submission
from demo.judging import Person, clock_from, enrol_panel
from demo.registration import play_registration
from domain.judging import Judging
from domain.registration import Registration
from ledger.application import open_application
from ledger.settings import Settings
from services.desk import Desk
from services.judging_read_models import read_models
from services.judging_steps import JudgingDesk

ROOT = Path(__file__).resolve().parents[1]
HUIYAN = (sys.executable, "-c", "from huiyan_cli import main; main()")  # this checkout's code
PAGES = (
    "leaderboard=public:/leaderboard?track={track}",
    "team results=team:/team/results?track={track}",
    "appeal timeline=arbitrator:/arbitrator/appeals/{appeal}/timeline",
)
TRACK = 7  # the demo's yongjiang team entered it: its results and its appeal are there
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclasses.dataclass
class Contest:
    contest: str
    team: str
    appeal: str
    sign_in: dict[str, tuple[str, str, str | None]]  # role -> login, password, TOTP secret


def build_contest(settings: Settings, args: argparse.Namespace) -> Contest:
    """The demo's contest with ``args.teams`` more teams, published, and one appeal."""
    registration = open_application(Registration, settings)
    summary = play_registration(settings, registration)
    contest_id = summary["contest_id"]
    judging = open_application(Judging, settings)
    experts = [uuid4() for _ in range(60)]
    build(judging, args.teams, args.tracks, args.submissions, experts, contest_id=contest_id)
    demo_teams = [t["id"] for t in summary["teams"].values() if t["status"] == "approved"]
    for number, team_id in enumerate(demo_teams, start=args.teams):
        for track in registration.team(team_id).tracks:
            entries = [scored_submission(contest_id, team_id, track) for _ in range(3)]
            judging.save(*entries, *reviewed(contest_id, team_id, track, number, entries[-1],
                                             experts))  # fmt: skip
    read_models(judging)
    publish(judging, contest_id, args.tracks)

    clock = clock_from(AT + timedelta(hours=2))
    desk = dataclasses.replace(Desk.open(), now=next(clock))
    jd = JudgingDesk(desk, judging)
    organiser = Person(registration.account_by_login(desk.vault.keyed_hash("organiser")).actor,
                       summary["signers"]["organiser"])  # fmt: skip
    panel = enrol_panel(desk, contest_id, organiser, clock)
    team_id = summary["teams"]["邕江慧影"]["id"]
    leader = next(m for m in judging.team(team_id).members if m["leader"])
    rules = jd.rules(contest_id)[0].appeals
    appeal_id = judging.file_appeal(
        team_id, TRACK, item="quality", reasons_sha256=desk.vault.seal_to(
            desk.blobs, team_id, b"We believe the quality figure is wrong."),
        evidence=[], items=rules.items, window_days=rules.window_days,
        one_per_item=rules.one_per_item, arbitrators=rules.arbitrators,
        actor=judging.account(leader["account_id"]).actor, now=next(clock),
        signer=summary["leaders"][team_id],
    )  # fmt: skip
    drawn = judging.appeal(appeal_id).arbitrators
    arbitrator = next(login for login, p in panel.items() if p.actor.account_id in drawn[:1])
    passwords = {account.login: account for account in summary["accounts"]}
    return Contest(
        contest=str(contest_id),
        team=str(team_id),
        appeal=str(appeal_id),
        sign_in={
            "team": ("lead-yongjiang", passwords["lead-yongjiang"].password, None),
            "arbitrator": (arbitrator, panel[arbitrator].password, panel[arbitrator].totp),
        },
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    env: dict[str, str], port: int, workers: int | None, log: Path, options: tuple[str, ...] = ()
) -> subprocess.Popen:
    """``huiyan serve`` (with ``options``) on the bench's ledger, in a process group of its
    own (a group kill reaches its gunicorn workers); what it says goes to ``log``."""
    sized = ["--workers", str(workers)] if workers else []
    command = [*HUIYAN, "serve", "--port", str(port), *sized, *options]
    with log.open("wb") as said:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=said, stdout=said,
                                  start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/sign-in", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not answer within 2 minutes")


def signed_in(base: str, login: str, password: str, code: str | None) -> httpx.Cookies:
    """The cookies of a session opened through the sign-in form, as a browser would."""
    with httpx.Client(base_url=base) as client:
        page = client.get("/sign-in")
        token = unescape(_TOKEN.search(page.text).group(1))  # type: ignore[union-attr]
        form = {"login": login, "password": password, "code": code or "", "csrf_token": token}
        answer = client.post("/sign-in", data=form)
        if answer.status_code != 302:
            raise SystemExit(f"{login} could not sign in ({answer.status_code})")
        return client.cookies


async def hammer(base: str, path: str, cookies: httpx.Cookies | None, clients: int,
                 requests: int) -> tuple[list[float], Counter]:  # fmt: skip
    """``requests`` GETs of ``path`` by ``clients`` concurrent clients; times in ms."""
    times: list[float] = []
    statuses: Counter = Counter()
    left = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits,
                                 timeout=120) as client:  # fmt: skip

        async def one_client() -> None:
            for _ in left:
                started = time.perf_counter()
                try:
                    answer = await client.get(path)
                except httpx.TransportError:
                    # A kept-alive connection closed by a worker gunicorn recycled
                    # (max_requests): counted, not timed; the client goes on.
                    statuses["connection closed"] += 1
                    continue
                times.append((time.perf_counter() - started) * 1000)
                statuses[answer.status_code] += 1

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return times, statuses


def p95(times: list[float]) -> float:
    """The 95th percentile, within the samples (a few samples never give more than the max)."""
    return statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument("--submissions", type=int, default=20, help="per team and track")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="per page")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn's (default: its)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--page", action="append", help="NAME=ROLE:PATH (repeatable)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="huiyan-bench-web-"))
    url = args.database_url or f"sqlite:///{home / 'ledger.sqlite3'}"
    # The demo's steps open their desks from the environment: this process's is the bench's.
    os.environ.update(HUIYAN_HOME=str(home), HUIYAN_DATABASE_URL=url, HUIYAN_ENV="development",
                      HUIYAN_CLOCK="")  # fmt: skip
    env = dict(os.environ)
    settings = Settings.from_env(env)
    started = time.perf_counter()
    contest = build_contest(settings, args)
    events = open_application(Judging, settings).recorder.max_notification_id() or 0
    print(f"built the demo's contest + {args.teams} teams x {args.tracks} tracks x "
          f"{args.submissions} submissions: {events} events in "
          f"{time.perf_counter() - started:.0f} s ({url.split(':')[0]})")  # fmt: skip

    # Served on the bench's ledger, its clock after the appeal: a day after the publication.
    clock = (AT + timedelta(days=1)).isoformat()
    env["HUIYAN_CLOCK"] = clock
    port = free_port()
    server = start_server(env, port, args.workers, home / "server.log")
    print(f"the server's log: {home / 'server.log'}")
    base = f"http://127.0.0.1:{port}"
    try:
        at = Settings.from_env({"HUIYAN_CLOCK": clock}).now()
        cookies: dict[str, Any] = {"public": None}
        for role, (login, password, secret) in contest.sign_in.items():
            code = pyotp.TOTP(secret).at(at) if secret else None
            cookies[role] = signed_in(base, login, password, code)
        values = {"track": TRACK, "team": contest.team, "appeal": contest.appeal,
                  "contest": contest.contest}  # fmt: skip
        print(f"{args.clients} clients, {args.requests} requests a page, gunicorn workers: "
              f"{args.workers or 'default'}")  # fmt: skip
        print("| page | path | statuses | median ms | p95 ms | requests/s |")
        print("| --- | --- | --- | --- | --- | --- |")
        for spec in args.page or PAGES:
            name, rest = spec.split("=", 1)
            role, path = rest.split(":", 1)
            path = path.format(**values)
            first = httpx.get(base + path, cookies=cookies[role], timeout=120)
            if first.status_code == 404:
                print(f"| {name} | {path} | missing (404) | | | |")
                continue
            began = time.perf_counter()
            times, statuses = asyncio.run(
                hammer(base, path, cookies[role], args.clients, args.requests)
            )
            took = time.perf_counter() - began
            shown = ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items(), key=str))
            print(f"| {name} | {path} | {shown} | {statistics.median(times):.0f} | "
                  f"{p95(times):.0f} | {len(times) / took:.0f} |")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
