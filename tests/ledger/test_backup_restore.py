"""Backup and restore as docs/operations.md tells an operator (deploy/backup.sh): a PostgreSQL
ledger of contest events is dumped with a witnessed checkpoint, restored into a fresh database
and folder, and the restore is proven by ``huiyan ledger verify`` against the checkpoint kept
outside; a restore of an older dump, which lacks the last events, fails against it and says
so in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.settings import Settings
from tests.audit.witnesses import make_witness, serving
from tests.flows import EXAMPLES, REGISTRATION_TIME, Huiyan
from tests.support import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "backup.sh"
HUIYAN_BIN = str(Path(sys.executable).parent)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="no PostgreSQL client tools"),
]


def run_script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={
            **os.environ,
            **env,
            "PATH": f"{HUIYAN_BIN}:{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def spare_database():
    urls: list[str] = []

    def make() -> str:
        urls.append(create_postgres_database())
        return urls[-1]

    yield make
    for url in urls:
        drop_postgres_database(url)


@pytest.mark.slow
def test_a_restore_is_proven_by_the_kept_witnessed_checkpoint(
    tmp_path, postgres_url, spare_database
):
    huiyan = Huiyan(tmp_path / "home", postgres_url)
    huiyan.account("organiser", "organiser")
    huiyan.ok("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml"),
              clock=REGISTRATION_TIME)  # fmt: skip
    witness = make_witness(tmp_path / "witness", Settings.from_env(huiyan.env))
    with serving(witness) as url:
        env = {**huiyan.env, "HUIYAN_WITNESSES": f"{url} {witness.key.verifier.encode()}"}
        older = run_script(env, "backup", str(tmp_path / "older"))
        assert older.returncode == 0, older.stderr
        huiyan.ok("rules", "publish", "--file", str(EXAMPLES / "rules-2026.yaml"),
                  clock=REGISTRATION_TIME)  # fmt: skip
        newer = run_script(env, "backup", str(tmp_path / "newer"))
        assert newer.returncode == 0, newer.stderr
    assert "keys.tar holds the ledger's and the vault's private keys" in newer.stderr
    # The operator keeps the newest checkpoint apart from the backup; the witness cosigned it.
    kept = tmp_path / "kept-checkpoint.note"
    shutil.copy(tmp_path / "newer" / "checkpoint.note", kept)
    assert f"\u2014 {witness.key.name} " in kept.read_text()
    keys_tar = tmp_path / "vault" / "keys.tar"  # "a separate, encrypted place"
    keys_tar.parent.mkdir()
    shutil.move(tmp_path / "newer" / "keys.tar", keys_tar)
    witness_key = witness.key.verifier.encode()

    restored = {"HUIYAN_HOME": str(tmp_path / "restored"), "HUIYAN_DATABASE_URL": spare_database()}
    result = run_script({**env, **restored}, "restore", str(tmp_path / "newer"), str(keys_tar),
                        str(kept), "--witness-key", witness_key)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("intact: ")
    blobs = sorted(p.name for p in (tmp_path / "home" / "blobs").rglob("*") if p.is_file())
    assert blobs and blobs == sorted(
        p.name for p in (tmp_path / "restored" / "blobs").rglob("*") if p.is_file()
    )
    # The restored keys sign again: the restored instance issues the next checkpoint.
    again = Huiyan(tmp_path / "restored", restored["HUIYAN_DATABASE_URL"])
    again.ok("ledger", "checkpoint")

    stale = {"HUIYAN_HOME": str(tmp_path / "stale"), "HUIYAN_DATABASE_URL": spare_database()}
    result = run_script({**env, **stale}, "restore", str(tmp_path / "older"), str(keys_tar),
                        str(kept), "--witness-key", witness_key)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT INTACT" in result.stdout
    (line,) = [line for line in result.stdout.splitlines() if "truncated" in line]
    assert "truncated: kept checkpoint 1 covers" in line and "the ledger holds" in line


def test_a_restore_refuses_a_database_or_folder_in_use(tmp_path, postgres_url):
    huiyan = Huiyan(tmp_path / "home", postgres_url)
    huiyan.account("organiser", "organiser")
    backup = run_script(huiyan.env, "backup", str(tmp_path / "backup"))
    assert backup.returncode == 0, backup.stderr
    args = ("restore", str(tmp_path / "backup"), str(tmp_path / "backup" / "keys.tar"),
            str(tmp_path / "backup" / "checkpoint.note"))  # fmt: skip
    into_itself = run_script(huiyan.env, *args)
    assert into_itself.returncode == 2
    assert "already holds an instance" in into_itself.stderr
    into_used_database = run_script({**huiyan.env, "HUIYAN_HOME": str(tmp_path / "new")}, *args)
    assert into_used_database.returncode == 2
    assert "restore into an empty database" in into_used_database.stderr
    assert not (tmp_path / "new").exists()
