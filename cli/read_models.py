"""``huiyan read-models``: the operator's commands for the read models (services/read_models.py,
services/judging_read_models.py)."""

from __future__ import annotations

import click

from domain.submissions import Submissions
from ledger.application import open_application
from ledger.console import one_line_errors
from ledger.ledger import LedgerError
from ledger.read_models import rebuild as rebuild_view
from ledger.settings import Settings, SettingsError
from services.inbox import open_inbox
from services.judging_read_models import open_judging
from services.read_models import open_listings
from services.run_durations import open_run_durations
from services.standings_memo import StandingsMemo


@click.group("read-models")
def read_models() -> None:
    """The listings of teams and submissions, the judging's rows (reviews, appeals,
    publications), the messages and the run durations, derived from the ledger."""


@read_models.command("rebuild")
@one_line_errors(SettingsError, LedgerError)  # LedgerError: e.g. a schema behind the release
def rebuild() -> None:
    """Drop every read model and its position and build it again from the first event;
    prints the events read per second. Safe at any time: nothing decides by a read model."""
    app = open_application(Submissions, Settings.from_env())
    for name, projection in (
        ("the listings", open_listings(app)),
        ("the judging rows", open_judging(app)),
        ("the messages", open_inbox(app)),
        ("the run durations", open_run_durations(app)),
    ):
        processed, seconds = rebuild_view(projection, app)
        rate = processed / seconds if seconds else 0.0
        click.echo(f"rebuilt {name}: {processed} events in {seconds:.2f} s ({rate:,.0f} events/s)")
    # Ranked lines computed from the old rows go too: the next read ranks the rebuilt ones.
    StandingsMemo(app.factory.datastore.engine).clear()  # type: ignore[attr-defined]
