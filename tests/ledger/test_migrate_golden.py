"""The acceptance test of the migrations: a database made by the release before them (the golden
ledger, on SQLite and on PostgreSQL) is upgraded by the real ``huiyan ledger migrate`` and then
``huiyan ledger verify`` passes with the same entries and the same root as before; migrating
again changes nothing, and ``--check`` tells a database that is behind from one that is not."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.checkpoint import parse_note
from ledger.migrations.run import migrate, scripts
from ledger.settings import Settings
from tests.ledger.golden.load import GOLDEN, KEYS, golden_database
from tests.ledger.golden.schema import describe_url
from tests.ledger.history import huiyan_for, make_settings
from tests.support import create_postgres_database, drop_postgres_database

HEAD = scripts().get_current_head()

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def golden(request, tmp_path) -> Settings:
    """The golden ledger as the previous release left it, and the settings that open it."""
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    url, _ = golden_database(tmp_path, url)
    return dataclasses.replace(make_settings(tmp_path, url), origin=GOLDEN["origin"])


def verified(settings: Settings, tmp_path: Path) -> dict:
    """``huiyan ledger verify --json`` against the golden keys and the kept golden checkpoint."""
    keys, kept = tmp_path / "golden.vkeys", tmp_path / "golden.checkpoint"
    keys.write_text("\n".join(GOLDEN["verifier_keys"]) + "\n")
    kept.write_text(GOLDEN["checkpoint"])
    result = huiyan_for(
        settings, "ledger", "verify", "--json", "--keys", str(keys), "--checkpoint", str(kept)
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def huiyan_subprocess(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HUIYAN_HOME": str(settings.home),
        "HUIYAN_DATABASE_URL": settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-c", "from huiyan_cli import main; main()", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_golden_ledger_of_the_previous_release_migrates_and_still_verifies(golden, tmp_path):
    kept = parse_note(GOLDEN["checkpoint"], KEYS).checkpoint
    before = verified(golden, tmp_path)
    assert (before["size"], before["root_hash"]) == (len(GOLDEN["rows"]), kept.root_hash.hex())

    behind = huiyan_for(golden, "ledger", "migrate", "--check")
    assert behind.exit_code == 1
    assert "release before migrations" in behind.output
    assert "run huiyan ledger migrate" in behind.output

    migrated = huiyan_subprocess(golden, "ledger", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "recognised the schema of the release before migrations" in migrated.stdout
    assert f"recorded it as revision 0001 and migrated it to {HEAD}" in migrated.stdout

    after = verified(golden, tmp_path)
    assert (after["size"], after["root_hash"]) == (before["size"], before["root_hash"])
    assert after["checkpoints_checked"] == before["checkpoints_checked"]
    current = huiyan_for(golden, "ledger", "migrate", "--check")
    assert current.exit_code == 0
    assert "this release's head" in current.output

    # Completed to exactly the schema an empty database of the same kind gets.
    sqlite = golden.database_url.startswith("sqlite")
    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}" if sqlite else create_postgres_database()
    try:
        migrate(fresh_url)
        assert describe_url(golden.database_url) == describe_url(fresh_url)
    finally:
        if not sqlite:
            drop_postgres_database(fresh_url)


def test_migrating_twice_is_a_no_op(golden, tmp_path):
    assert huiyan_for(golden, "ledger", "migrate").exit_code == 0
    schema = describe_url(golden.database_url)
    again = huiyan_for(golden, "ledger", "migrate")
    assert again.exit_code == 0
    assert (
        again.output == f"the database is at revision {HEAD}, this release's head: nothing to do\n"
    )
    assert describe_url(golden.database_url) == schema
    assert verified(golden, tmp_path)["size"] == len(GOLDEN["rows"])
