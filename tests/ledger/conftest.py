"""Fixtures for ledger tests: an instance folder, a ledger with some history, a CLI runner."""

from __future__ import annotations

import pytest

from ledger.ledger import Ledger
from ledger.settings import Settings
from tests.ledger.history import huiyan_for, make_settings


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
def cli():
    """Run ``huiyan`` in-process with the environment of the given settings."""
    return huiyan_for


def open_ledger(settings: Settings) -> Ledger:
    return Ledger.from_settings(settings)
