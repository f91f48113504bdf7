"""A small history to verify, with stand-in aggregates: the ledger knows nothing of contests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.application import open_application
from ledger.settings import Settings

NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)


class Dossier(Aggregate):
    """A stand-in aggregate: the ledger knows nothing of the contest."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.notes: list[str] = []

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


class Dossiers(Application):
    pass


def make_settings(home: Path, url: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env({"HUIYAN_HOME": str(home)}), database_url=url, origin="test/ledger"
    )


def fill(settings: Settings, dossiers: int, notes: int = 1) -> Dossiers:
    """Write ``dossiers * (1 + notes)`` events, one transaction per dossier."""
    app = open_application(Dossiers, settings)
    for number in range(dossiers):
        dossier = Dossier(f"dossier {number}")
        for n in range(notes):
            dossier.note(f"note {n}")
        app.save(dossier)
    return app


def huiyan_for(settings: Settings, *args: str):
    """``huiyan`` run in-process with the environment of the given settings."""
    from click.testing import CliRunner

    from huiyan_cli import main

    env = {
        "HUIYAN_HOME": str(settings.home),
        "HUIYAN_DATABASE_URL": settings.database_url,
        "HUIYAN_LEDGER_ORIGIN": settings.origin,
        "HUIYAN_CLOCK": NOW.isoformat(),
        "HUIYAN_WITNESSES": ",".join(f"{w.url} {w.key.encode()}" for w in settings.witnesses),
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
