"""``huiyan demo``: the README's main job, a rehearsal of the contest on a laptop.

It plays the contest's history into a SQLite ledger under ``HUIYAN_HOME`` (the 2026 contest,
its rules, teams registered, reviewed, one rejected and resubmitted, one disqualified by the
blacklist), issues a
checkpoint, proves one event's inclusion, verifies the whole ledger the way an auditor would
(from the rows and the exported public keys alone) and prints a short summary.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import click

from domain.registration import Registration
from domain.time import SHANGHAI
from ledger.application import open_application
from ledger.ledger import Ledger
from ledger.merkle import verify_inclusion
from ledger.persistence import DEFAULT_EVENTS_TABLE
from ledger.settings import Settings
from ledger.verify import verify_ledger
from web.demo import play_registration

DEMO_CLOCK = datetime(2026, 8, 15, 10, 0, tzinfo=SHANGHAI)


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
    ledger = Ledger.from_settings(settings)
    signed = ledger.issue_checkpoint(now)
    position = signed.checkpoint.tree_size // 2
    proof = ledger.inclusion_proof(position)
    verify_inclusion(
        proof.leaf_hash, position, proof.tree_size, proof.path, signed.checkpoint.root_hash
    )
    keys = ledger.verifier_keys()
    report = verify_ledger(settings.database_url, DEFAULT_EVENTS_TABLE, keys, [signed])
    click.echo(f"huiyan demo in {settings.home}")
    click.echo(f"  contest           {summary['contest_id']} (rules {summary['rules_version']})")
    for name, team in summary["teams"].items():
        state = "disqualified" if team["disqualified"] else team["status"]
        click.echo(f"  team              {name}: {state}")
    click.echo(f"  organiser login   in {credentials}")
    click.echo(f"  ledger size       {report.size}")
    click.echo(f"  checkpoint        size {signed.checkpoint.tree_size}, key {signed.key_id}")
    click.echo(f"  root hash         {signed.checkpoint.root_hash.hex()}")
    click.echo(f"  inclusion proof   position {position}: {len(proof.path)} hashes, verified")
    click.echo(f"  verify            {'intact' if report.intact else 'NOT INTACT'}")
    if not report.intact:
        raise SystemExit(1)
