"""``huiyan read-models``: the operator's commands for the read models (web/read_models.py)."""

from __future__ import annotations

import sys

import click

from domain.submissions import Submissions
from ledger.application import open_application
from ledger.read_models import rebuild as rebuild_view
from ledger.settings import Settings, SettingsError
from web.read_models import open_listings


@click.group("read-models")
def read_models() -> None:
    """The listings of teams and submissions, derived from the ledger."""


@read_models.command("rebuild")
def rebuild() -> None:
    """Drop the listings and their position and build them again from the first event;
    prints the events read per second. Safe at any time: nothing decides by a listing."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    app = open_application(Submissions, settings)
    processed, seconds = rebuild_view(open_listings(app), app)
    rate = processed / seconds if seconds else 0.0
    click.echo(
        f"rebuilt the listings: {processed} events in {seconds:.2f} s ({rate:,.0f} events/s)"
    )
