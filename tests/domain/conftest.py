from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from domain.registration import Registration  # noqa: E402


@pytest.fixture
def app() -> Registration:
    """The registration desk on the library's in-memory store: fast, and the rules are the
    same as on the ledger (the ledger tests cover the store)."""
    return Registration(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def contest_id(app):
    from helpers import new_contest

    return new_contest(app)
