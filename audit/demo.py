"""``huiyan demo``: the README's main job, a rehearsal of the contest on a laptop.

It plays a slice of contest history into a SQLite ledger under ``HUIYAN_HOME``, issues a
checkpoint, proves one event's inclusion, verifies the whole ledger the way an auditor would
(from the rows and the exported public keys alone) and prints a short summary.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import click
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.application import open_application
from ledger.ledger import Ledger
from ledger.merkle import verify_inclusion
from ledger.persistence import DEFAULT_EVENTS_TABLE
from ledger.settings import Settings
from ledger.verify import verify_ledger

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_CLOCK = datetime(2026, 8, 15, 10, 0, tzinfo=SHANGHAI)


class Casefile(Aggregate):
    """A stand-in record of one team's path through the contest."""

    @event("Registered")
    def __init__(self, team: str, track: int) -> None:
        self.team, self.track = team, track
        self.history: list[str] = []

    @event("Approved")
    def approve(self, organiser: UUID) -> None:
        self.history.append("approved")

    @event("SubmissionReceived")
    def submit(self, model_sha256: str) -> None:
        self.history.append(model_sha256)

    @event("ScoreComputed")
    def score(self, primary: str, rules_sha256: str) -> None:
        self.history.append(primary)


class Casefiles(Application):
    pass


def play_history(settings: Settings) -> int:
    """Write a small, plausible history; return the number of events written."""
    app = open_application(Casefiles, settings)
    organiser = UUID(int=1)
    written = 0
    for number, (team, track) in enumerate([("Lung Lab", 1), ("Kidney AI", 2), ("CXR-14", 8)]):
        casefile = Casefile(team, track)
        casefile.approve(organiser)
        for attempt in range(2):
            casefile.submit(f"{number:02x}{attempt:02x}" * 16)
            casefile.score(f"0.{70 + 7 * number + attempt}", "ab" * 32)
        written += len(app.save(casefile))
    return written


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
    written = play_history(settings)
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
    click.echo(f"  events written    {written}")
    click.echo(f"  ledger size       {report.size}")
    click.echo(f"  checkpoint        size {signed.checkpoint.tree_size}, key {signed.key_id}")
    click.echo(f"  root hash         {signed.checkpoint.root_hash.hex()}")
    click.echo(f"  inclusion proof   position {position}: {len(proof.path)} hashes, verified")
    click.echo(f"  verify            {'intact' if report.intact else 'NOT INTACT'}")
    if not report.intact:
        raise SystemExit(1)
