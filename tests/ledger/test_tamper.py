"""Change the database behind the ledger's back with plain SQL; verify must name what and where."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ledger.ledger import Ledger
from tests.ledger.history import NOW, fill

EVENTS = "ledger_events"


@pytest.fixture
def history(settings):
    """12 dossiers x 2 events = positions 0..23, and a checkpoint at 24."""
    fill(settings, 12)
    Ledger.from_settings(settings).issue_checkpoint(NOW)
    return settings


def run_sql(settings, *statements: str, **params) -> None:
    engine = sa.create_engine(settings.database_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement), params)
    engine.dispose()


def verify(cli, settings):
    result = cli(settings, "ledger", "verify", "--json")
    return result.exit_code, json.loads(result.output)


def kinds_at(report) -> tuple[int | None, str]:
    return report["first_bad_position"], report["problems"][0]["kind"]


def test_an_untouched_ledger_is_intact(history, cli):
    code, report = verify(cli, history)
    assert code == 0
    assert report["intact"] is True
    assert report["size"] == 24
    assert report["checkpoints_checked"] == [24]


def test_modified_state_is_found_at_its_position(history, cli):
    run_sql(history, f"UPDATE {EVENTS} SET state = :s WHERE position = 5", s=b'{"title":"x"}')
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (5, "modified")


def test_deleted_entry_is_found(history, cli):
    run_sql(history, f"DELETE FROM {EVENTS} WHERE position = 9")
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (9, "deleted")


@pytest.mark.parametrize("signature_of", ["copy", "forged"])
def test_inserted_entry_is_found(history, cli, signature_of):
    # Make room at position 6, then forge a row there from a copy of row 5 (with its genuine
    # hashes and signature, or with a signature that is not the ledger's).
    signature = "signature" if signature_of == "copy" else ":forged"
    run_sql(
        history,
        f"UPDATE {EVENTS} SET position = position + 1000 WHERE position >= 6",
        f"UPDATE {EVENTS} SET position = position - 999 WHERE position >= 1000",
        f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state, position, "
        "leaf_hash, prev_hash, key_id, signature) "
        f"SELECT originator_id, originator_version + 100, topic, state, 6, "
        f"{'leaf_hash' if signature_of == 'copy' else 'prev_hash'}, "
        f"prev_hash, key_id, {signature} FROM {EVENTS} WHERE position = 5",
        forged=bytes(range(64)),
    )
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (6, "inserted")


def test_reordered_entries_are_found(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET position = 1000 WHERE position = 3",
        f"UPDATE {EVENTS} SET position = 3 WHERE position = 4",
        f"UPDATE {EVENTS} SET position = 4 WHERE position = 1000",
    )
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (3, "reordered")


def test_truncated_ledger_is_found_against_the_checkpoint(history, cli):
    run_sql(history, f"DELETE FROM {EVENTS} WHERE position >= 20")
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (20, "truncated")


def test_bad_signature_is_found(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET signature = (SELECT signature FROM {EVENTS} WHERE position = 1) "
        "WHERE position = 7",
    )
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (7, "bad signature")


def test_unknown_key_is_found(history, cli):
    run_sql(history, f"UPDATE {EVENTS} SET key_id = 'deadbeef' WHERE position = 11")
    code, report = verify(cli, history)
    assert code == 1
    assert kinds_at(report) == (11, "unknown key")


def test_rewritten_chain_link_is_found(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET prev_hash = (SELECT prev_hash FROM {EVENTS} WHERE position = 2) "
        "WHERE position = 8",
    )
    code, report = verify(cli, history)
    assert code == 1
    # The signature covers the link, so a changed link is first a broken signature.
    assert kinds_at(report) == (8, "bad signature")


def test_text_report_names_the_first_bad_position(history, cli):
    run_sql(history, f"DELETE FROM {EVENTS} WHERE position = 13")
    result = cli(history, "ledger", "verify")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "NOT INTACT: first bad position 13"
