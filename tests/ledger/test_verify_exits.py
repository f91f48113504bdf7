"""Exit codes a monitoring script can rely on: 0 intact, 1 not intact, 2 could not verify.

Status 2 is for what the caller gave (a database file that is not one, keys or kept
checkpoints that do not parse) and for internal errors: one line, never a traceback.
"""

from __future__ import annotations

import sqlite3

import pytest

from ledger.keys import Keyring
from ledger.ledger import Ledger
from tests.ledger.history import NOW, fill


@pytest.fixture
def intact(sqlite_settings, cli):
    fill(sqlite_settings, 6)
    Ledger.from_settings(sqlite_settings).issue_checkpoint(NOW)
    return sqlite_settings


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    return result.output


def database_path(settings) -> str:
    """The SQLite file, with everything in it (the write-ahead log folded in and removed)."""
    path = settings.database_url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def test_a_garbage_file_as_the_database_is_unusable_input(intact, cli):
    with open(database_path(intact), "wb") as handle:
        handle.write(b"this is not a database\n" * 100)
    output = one_line_error(cli(intact, "ledger", "verify"))
    assert "cannot open the ledger database" in output


def test_a_truncated_sqlite_file_is_unusable_input(intact, cli):
    path = database_path(intact)
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[: len(data) // 3])
    output = one_line_error(cli(intact, "ledger", "verify"))
    assert "malformed" in output


def test_a_non_utf8_checkpoint_file_is_unusable_input(intact, cli, tmp_path):
    kept = tmp_path / "kept.checkpoint"
    kept.write_bytes(b"\xff\xfe\x00garbage")
    output = one_line_error(cli(intact, "ledger", "verify", "--checkpoint", str(kept)))
    assert "is not UTF-8 text" in output


def test_a_checkpoint_file_that_does_not_parse_is_unusable_input(intact, cli, tmp_path):
    kept = tmp_path / "kept.checkpoint"
    kept.write_text("hello\n")
    output = one_line_error(cli(intact, "ledger", "verify", "--checkpoint", str(kept)))
    assert "not a signed note" in output


def test_a_kept_checkpoint_by_an_unknown_key_is_unusable_input(intact, cli, tmp_path):
    from ledger.checkpoint import Checkpoint

    stranger = Keyring(tmp_path / "stranger", "test/ledger").signing_key()
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(Checkpoint("test/ledger", 3, bytes(32)).sign(stranger))
    output = one_line_error(cli(intact, "ledger", "verify", "--checkpoint", str(kept)))
    assert "not signed by a known key" in output


def test_a_keys_file_that_does_not_parse_is_unusable_input(intact, cli, tmp_path):
    keys = tmp_path / "trusted.vkeys"
    keys.write_text("garbage line\n")
    output = one_line_error(cli(intact, "ledger", "verify", "--keys", str(keys)))
    assert "not a verifier key line" in output


def test_missing_files_are_unusable_input(intact, cli, tmp_path):
    for option in ("--keys", "--checkpoint"):
        output = one_line_error(cli(intact, "ledger", "verify", option, str(tmp_path / "none")))
        assert "No such file" in output


def test_an_internal_error_is_status_2_and_debug_shows_it(intact, cli, monkeypatch):
    import ledger.cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ledger.cli, "verify_ledger", broken)
    output = one_line_error(cli(intact, "ledger", "verify"))
    assert "internal error" in output
    debug = cli(intact, "ledger", "verify", "--debug")
    assert debug.exit_code == 2
    assert "RuntimeError: boom" in debug.output


def test_help_states_the_exit_codes_kinds_and_limits(cli, sqlite_settings):
    text = cli(sqlite_settings, "ledger", "verify", "--help").output
    for phrase in ("0  intact", "1  not intact", "2  cannot verify", "fork", "retired key"):
        assert phrase in text
    assert "thief of the active key" in text
