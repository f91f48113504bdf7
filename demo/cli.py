"""``huiyan demo``: the README's main job, a rehearsal of the contest on a laptop.

It plays the contest's history into a SQLite ledger under ``HUIYAN_HOME`` (the 2026 contest,
its rules, teams registered, reviewed, one rejected and resubmitted, one disqualified by the
blacklist), issues a
checkpoint, proves one event's inclusion, verifies the whole ledger the way an auditor would
(from the rows and the exported public keys alone) and prints a short summary.

It leaves what the README's "Using it" block needs: the organiser's password and TOTP secret
in a 0600 file (``huiyan demo code`` prints the current code, as their phone would), a team
file not yet registered, its member's file, and a technical report (``demo-data/``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import pyotp
from pypdf import PdfWriter

from cli.serve import serving_options, start
from demo.judging import play_judging
from demo.registration import (
    EXAMPLES,
    ORGANISER_LOGIN,
    DemoAccount,
    demo_organiser,
    play_registration,
)
from domain.registration import Registration
from domain.submissions import Submission, Submissions
from domain.time import SHANGHAI
from ledger.application import open_application
from ledger.console import progress_display
from ledger.ledger import Ledger
from ledger.merkle import verify_inclusion
from ledger.settings import Settings, SettingsError
from ledger.verify import verify_ledger
from scoring.baselines import bundle_path
from scoring.synth import make_dataset
from services import totp
from services.desk import Desk
from services.submissions import RoundDesk, add_testset, submit_model
from workers.pipeline import FUNCTIONS, dispatch_once, open_dispatcher
from workers.queues import InlineJobQueue, Stage

DEMO_CLOCK = datetime(2026, 8, 15, 10, 0, tzinfo=SHANGHAI)
ROUND_OPEN = datetime(2026, 8, 3, 10, 0, tzinfo=SHANGHAI)
DEMO_CASES = 8
CREDENTIALS = "demo-credentials.txt"
# The people the summary names, one line per role (role, label); the file holds every demo
# person, team members too.
SHOWN_ROLES = (
    ("organiser", "organiser"),
    ("team leader", "leaders"),
    ("expert", "experts"),
    ("arbitrator", "arbitrators"),
    ("compliance officer", "compliance"),
)


def play_round(
    settings: Settings,
    registration: Registration,
    team_ids: list[UUID],
    *,
    cases: int = DEMO_CASES,
    now: datetime = ROUND_OPEN,
    on_job: Callable[[Stage, str], None] | None = None,
) -> list[UUID]:
    """The preliminary round: a synthetic hidden test set per track that a team entered, the
    track's baseline model submitted by each team, and every job run in this process
    (``on_job(stage, submission_id)`` after each, for progress)."""
    desk = dataclasses.replace(Desk.open(), now=now)
    round_desk = RoundDesk(desk, open_application(Submissions, settings))
    organiser = demo_organiser(registration, desk.vault)
    contest = desk.contest(None)
    data = settings.home / "demo-data"
    report = blank_pdf(data / "technical-report.pdf")
    entries = [(team, track) for team in team_ids for track in registration.team(team).tracks]
    for track in sorted({track for _, track in entries}):
        testset = make_dataset(track, cases, data / f"track-{track}", seed=track)
        add_testset(round_desk, contest, track, testset, organiser)
    submitted = [
        submit_model(round_desk, team, track, str(bundle_path(track)), report, organiser)
        for team, track in entries
    ]
    dispatch_once(settings, open_dispatcher(settings, InlineJobQueue(FUNCTIONS)), on_job)
    return submitted


def blank_pdf(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def describe(registration: Registration, submission: Submission) -> str:
    team = registration.team(submission.team_id).name
    where = f"{team}, track {submission.track}"
    if submission.score is None:
        reason = submission.failure["reason"] if submission.failure else submission.status
        return f"{where}: {reason}"
    score = submission.score
    primary = score["breakdown"]["primary"]
    gates = "gates passed" if score["gates_passed"] else "gates FAILED"
    return (
        f"{where}: {primary['name']} {primary['value']:.3f}, "
        f"efficiency {score['efficiency']:.2f}, {gates}"
    )


def write_credentials(
    settings: Settings, organiser: dict[str, str], accounts: list[DemoAccount]
) -> Path:
    """Keep the demo people's passwords and TOTP secrets out of the terminal log: a 0600
    file instead. The organiser's come first, one ``key: value`` a line (the README's block
    reads them so); then one line per other person, ``login role password [secret]``. A
    secret stands for the person's phone: `huiyan demo code [--login L]` reads it, and the
    organiser's otpauth:// line can be added to a real authenticator app."""
    path = settings.home / CREDENTIALS
    uri = totp.enrolment_uri(organiser["totp"], account_label=organiser["login"])
    lines = [
        f"login: {organiser['login']}",
        f"password: {organiser['password']}",
        f"totp: {organiser['totp']}",
        f"totp uri: {uri}",
        "",
        "# every other demo person - login, role, password, TOTP secret (privileged roles)",
    ]
    lines += [
        " ".join(filter(None, (a.login, a.role.replace(" ", "_"), a.password, a.totp)))
        for a in accounts
        if a.login != organiser["login"]
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def totp_secret(path: Path, login: str) -> str | None:
    """The TOTP secret ``login`` holds in the demo's credentials file, if any."""
    text = path.read_text()
    if login == ORGANISER_LOGIN:
        found = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
        return found.get("totp")
    for line in text.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] == login:
            return words[3]
    return None


# The README's "Using it" block registers one more team after the demo: a leader's team file
# and the record its invited member accepts with, left in demo-data/ with the identity proof
# beside the team file (docs/contest.md). Fictional people, on no blacklist.
README_TEAM = """\
# A team file (docs/contest.md) that the demo leaves unregistered for the README's example.
contest: huiyan-2026
name: Xijiang Imaging
language: en
leader:
  name: Xu Lan
  identity: {type: id_card, number: "450102199605050012"}
  organisation: 梧州示例大学
  email: xu@xijiang.example
  status: teacher
invite:
  - he@xijiang.example
tracks:
  - {track: 7, group: self_built}
documents:
  identity_proof: [documents/identity-proof-sample.pdf]
"""
README_MEMBER = """\
# A member file: He Ping's own record, given when accepting the invitation. Fictional.
name: He Ping
identity: {type: id_card, number: "45010219970808002X"}
organisation: 梧州示例大学
email: he@xijiang.example
status: student
"""


def leave_readme_files(settings: Settings) -> Path:
    """The files the README's example needs after the demo, in HUIYAN_HOME/demo-data."""
    data = settings.home / "demo-data"
    (data / "documents").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        EXAMPLES / "documents" / "identity-proof-sample.pdf",
        data / "documents" / "identity-proof-sample.pdf",
    )
    (data / "team-xijiang.yaml").write_text(README_TEAM, encoding="utf-8")
    (data / "member-he.yaml").write_text(README_MEMBER, encoding="utf-8")
    return data


def demo_settings() -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if settings.is_production:
        raise click.ClickException("the demo never runs with HUIYAN_ENV=production")
    return settings


@click.group(invoke_without_command=True)
@click.option("--fresh", is_flag=True, help="Start from an empty HUIYAN_HOME (the demo's own).")
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="End by serving the web application on the demo (scripts and tests: --no-serve).",
)
@serving_options
@click.pass_context
def demo(context: click.Context, fresh: bool, serve: bool, **serving: Any) -> None:
    """Rehearse the contest end to end on a laptop, verify the ledger, then serve the site."""
    if context.invoked_subcommand is None:
        settings = rehearse(fresh)
        if serve:
            click.echo(f"  serving           http://{serving['host']}:{serving['port']}/ "
                       "(Ctrl-C stops it)")  # fmt: skip
            start(settings, **serving)
    elif fresh:
        raise click.UsageError("--fresh belongs to the rehearsal itself: `huiyan demo --fresh`")


@demo.command("code")
@click.option("--login", default=ORGANISER_LOGIN, show_default=True,
              help="Whose phone: organiser, arbitrator-1, compliance-1...")  # fmt: skip
def demo_code(login: str) -> None:
    """Print a demo person's current TOTP code, as their phone would (demo only).

    It reads the secret from HUIYAN_HOME/demo-credentials.txt and uses the one clock
    (HUIYAN_CLOCK when set); refused with HUIYAN_ENV=production, like the demo itself."""
    settings = demo_settings()
    path = settings.home / CREDENTIALS
    try:
        secret = totp_secret(path, login)
    except FileNotFoundError:
        raise click.ClickException(f"no {path}: run `huiyan demo --fresh` first") from None
    if secret is None:
        raise click.ClickException(f"{path} holds no TOTP secret for {login}")
    click.echo(pyotp.TOTP(secret, interval=totp.STEP_SECONDS).at(settings.now()))


def rehearse(fresh: bool) -> Settings:
    """The demo itself; its settings, for serving it afterwards."""
    settings = demo_settings()
    if fresh and settings.home.exists():
        shutil.rmtree(settings.home)
    now = settings.clock or DEMO_CLOCK
    # Progress on stderr while a person watches; the summary below is stdout's, after it.
    with progress_display() as bar:
        steps = bar.add_task("demo: registration", total=5)
        registration = open_application(Registration, settings)
        summary = play_registration(settings, registration)
        leave_readme_files(settings)
        approved = [t["id"] for t in summary["teams"].values() if t["status"] == "approved"]
        bar.update(steps, advance=1, description="demo: round")
        submitted = play_round(
            settings,
            registration,
            approved,
            on_job=lambda stage, ident: bar.update(
                steps, description=f"demo: round, {stage} of {ident[:8]} done"
            ),
        )
        submissions = open_application(Submissions, settings)
        bar.update(steps, advance=1, description="demo: judging")
        judged = play_judging(settings, registration, summary)
        people = summary["accounts"] + judged["accounts"]
        credentials = write_credentials(settings, summary["organiser"], people)
        bar.update(steps, advance=1, description="demo: checkpoint")
        ledger = Ledger.from_settings(settings)
        signed = ledger.issue_checkpoint(now)
        position = signed.checkpoint.tree_size // 2
        proof = ledger.inclusion_proof(position)
        verify_inclusion(
            proof.leaf_hash, position, proof.tree_size, proof.path, signed.checkpoint.root_hash
        )
        bar.update(steps, advance=1, description="demo: verify")
        keys = ledger.verifier_keys()
        report = verify_ledger(
            settings.database_url,
            keys,
            [signed],
            table=settings.events_table,
            progress=lambda done, size: bar.update(
                steps, description=f"demo: verify, {done}/{size} entries"
            ),
        )
        bar.update(steps, advance=1)
    click.echo(f"huiyan demo in {settings.home}")
    click.echo(f"  contest           {summary['contest_id']} (rules {summary['rules_version']})")
    for name, team in summary["teams"].items():
        state = "disqualified" if team["disqualified"] else team["status"]
        click.echo(f"  team              {name}: {state}")
    for role, label in SHOWN_ROLES:
        logins = ", ".join(person.login for person in people if person.role == role)
        click.echo(f"  {label:<17} {logins}")
    click.echo(f"  their sign-in     in {credentials} (`huiyan demo code --login L`: a code)")
    for ident in submitted:
        click.echo(f"  submission        {describe(registration, submissions.submission(ident))}")
    for track, facts in judged["tracks"].items():
        click.echo(
            f"  review            track {track}: {facts['entries']} entries graded, published"
        )
    for line in judged["appeals"]:
        click.echo(f"  appeal            {line}")
    for track, prize, position, path in judged["certificates"]:
        click.echo(f"  award             track {track}: {prize}, ledger position {position}")
        click.echo(f"  certificate       {path}")
    click.echo(f"  ledger size       {report.size}")
    click.echo(f"  checkpoint        size {signed.checkpoint.tree_size}, key {signed.key_id}")
    click.echo(f"  root hash         {signed.checkpoint.root_hash.hex()}")
    click.echo(f"  inclusion proof   position {position}: {len(proof.path)} hashes, verified")
    click.echo(f"  verify            {'intact' if report.intact else 'NOT INTACT'}")
    if not report.intact:
        raise SystemExit(1)
    return settings
