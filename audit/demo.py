"""``huiyan demo``: the README's main job, a rehearsal of the contest on a laptop.

It plays the contest's history into a SQLite ledger under ``HUIYAN_HOME`` (the 2026 contest,
its rules, teams registered, reviewed, one rejected and resubmitted, one disqualified by the
blacklist), issues a
checkpoint, proves one event's inclusion, verifies the whole ledger the way an auditor would
(from the rows and the exported public keys alone) and prints a short summary.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import datetime
from pathlib import Path
from uuid import UUID

import click
from pypdf import PdfWriter

from domain.registration import Registration
from domain.submissions import Submission, Submissions
from domain.time import SHANGHAI
from ledger.application import open_application
from ledger.ledger import Ledger
from ledger.merkle import verify_inclusion
from ledger.settings import Settings
from ledger.verify import verify_ledger
from scoring.baselines import bundle_path
from scoring.synth import make_dataset
from web.cli import Desk
from web.demo import demo_organiser, play_registration
from web.submissions_cli import RoundDesk, add_testset, submit_model
from workers.pipeline import FUNCTIONS, dispatch_once, open_dispatcher
from workers.queues import InlineJobQueue

DEMO_CLOCK = datetime(2026, 8, 15, 10, 0, tzinfo=SHANGHAI)
ROUND_OPEN = datetime(2026, 8, 3, 10, 0, tzinfo=SHANGHAI)
DEMO_CASES = 8


def play_round(
    settings: Settings,
    registration: Registration,
    team_ids: list[UUID],
    *,
    cases: int = DEMO_CASES,
    now: datetime = ROUND_OPEN,
) -> list[UUID]:
    """The preliminary round: a synthetic hidden test set per track that a team entered, the
    track's baseline model submitted by each team, and every job run in this process."""
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
    dispatch_once(settings, open_dispatcher(settings, InlineJobQueue(FUNCTIONS)))
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


def write_credentials(settings: Settings, organiser: dict[str, str]) -> Path:
    """Keep the demo organiser's password out of the terminal log: a 0600 file instead."""
    path = settings.home / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"login: {organiser['login']}\npassword: {organiser['password']}\n")
    return path


@click.command()
@click.option("--fresh", is_flag=True, help="Start from an empty HUIYAN_HOME (the demo's own).")
def demo(fresh: bool) -> None:
    """Rehearse the contest end to end on a laptop and verify the ledger."""
    settings = Settings.from_env()
    if settings.is_production:
        raise click.ClickException("the demo never runs with HUIYAN_ENV=production")
    if fresh and settings.home.exists():
        shutil.rmtree(settings.home)
    now = settings.clock or DEMO_CLOCK
    registration = open_application(Registration, settings)
    summary = play_registration(settings, registration)
    credentials = write_credentials(settings, summary["organiser"])
    approved = [team["id"] for team in summary["teams"].values() if team["status"] == "approved"]
    submitted = play_round(settings, registration, approved)
    submissions = open_application(Submissions, settings)
    ledger = Ledger.from_settings(settings)
    signed = ledger.issue_checkpoint(now)
    position = signed.checkpoint.tree_size // 2
    proof = ledger.inclusion_proof(position)
    verify_inclusion(
        proof.leaf_hash, position, proof.tree_size, proof.path, signed.checkpoint.root_hash
    )
    keys = ledger.verifier_keys()
    report = verify_ledger(settings.database_url, keys, [signed], table=settings.events_table)
    click.echo(f"huiyan demo in {settings.home}")
    click.echo(f"  contest           {summary['contest_id']} (rules {summary['rules_version']})")
    for name, team in summary["teams"].items():
        state = "disqualified" if team["disqualified"] else team["status"]
        click.echo(f"  team              {name}: {state}")
    click.echo(f"  organiser login   in {credentials}")
    for ident in submitted:
        click.echo(f"  submission        {describe(registration, submissions.submission(ident))}")
    click.echo(f"  ledger size       {report.size}")
    click.echo(f"  checkpoint        size {signed.checkpoint.tree_size}, key {signed.key_id}")
    click.echo(f"  root hash         {signed.checkpoint.root_hash.hex()}")
    click.echo(f"  inclusion proof   position {position}: {len(proof.path)} hashes, verified")
    click.echo(f"  verify            {'intact' if report.intact else 'NOT INTACT'}")
    if not report.intact:
        raise SystemExit(1)
