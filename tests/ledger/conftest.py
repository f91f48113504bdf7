"""Fixtures for ledger tests: an instance folder, a ledger with some history, a CLI runner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ledger.ledger import Ledger
from ledger.settings import Settings
from tests.ledger.history import NOW, make_settings


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return make_settings(tmp_path / "home", url)


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


@pytest.fixture
def cli(monkeypatch):
    """Run ``huiyan`` in-process with the environment of the given settings."""

    def run(settings: Settings, *args: str):
        from huiyan_cli import main

        env = {
            "HUIYAN_HOME": str(settings.home),
            "HUIYAN_DATABASE_URL": settings.database_url,
            "HUIYAN_LEDGER_ORIGIN": settings.origin,
            "HUIYAN_CLOCK": NOW.isoformat(),
        }
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def open_ledger(settings: Settings) -> Ledger:
    return Ledger.from_settings(settings)
