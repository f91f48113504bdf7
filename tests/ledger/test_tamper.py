"""The attacker with SQL access: every edit of the database is named by kind and first position.

Each case runs on SQLite and PostgreSQL and asserts the exit status (1: not intact), the kind
and the first bad position; none may end in exit 0, in exit 2 or in a traceback.
"""

from __future__ import annotations

import pytest

from ledger.checkpoint import Checkpoint
from ledger.ledger import Ledger, keyring_for
from tests.ledger.attack import (
    CHECKPOINTS,
    EVENTS,
    NODES,
    add_checkpoint_row,
    append_forged,
    copy_row,
    first,
    query,
    run_sql,
    verify,
)
from tests.ledger.history import NOW, fill, make_settings


@pytest.fixture
def history(settings):
    """12 dossiers x 2 events = positions 0..23, and a checkpoint at 24."""
    fill(settings, 12)
    Ledger.from_settings(settings).issue_checkpoint(NOW)
    return settings


def test_an_untouched_ledger_is_intact(history, cli):
    code, report = verify(cli, history)
    assert code == 0
    assert report["intact"] is True
    assert report["size"] == 24
    assert report["checkpoints_checked"] == [24]


# --- rows --------------------------------------------------------------------------------------


def test_modified_state_is_found_at_its_position(history, cli):
    run_sql(history, f"UPDATE {EVENTS} SET state = :s WHERE position = 5", s=b'{"title":"x"}')
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (5, "modified")


def test_modified_topic_is_found(history, cli):
    run_sql(history, f"UPDATE {EVENTS} SET topic = 'other:Thing.Done' WHERE position = 14")
    assert first(verify(cli, history)[1]) == (14, "modified")


def test_deleted_entry_is_found(history, cli):
    run_sql(history, f"DELETE FROM {EVENTS} WHERE position = 9")
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (9, "deleted")


def test_deleted_entries_renumbered_are_still_deleted(history, cli):
    run_sql(
        history,
        f"DELETE FROM {EVENTS} WHERE position IN (9, 10)",
        f"UPDATE {EVENTS} SET position = position + 1000 WHERE position > 10",
        f"UPDATE {EVENTS} SET position = position - 1002 WHERE position >= 1000",
    )
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (9, "deleted")
    assert "2 entries before it were removed" in report["problems"][0]["detail"]


@pytest.mark.parametrize("signature_of", ["copy", "forged"])
def test_inserted_entry_is_found(history, cli, signature_of):
    # Make room at position 6, then forge a row there from a copy of row 5 (with its genuine
    # hashes and signature, or with a signature that is not the ledger's).
    signature = "signature" if signature_of == "copy" else ":forged"
    leaf = "leaf_hash" if signature_of == "copy" else "prev_hash"
    run_sql(
        history,
        f"UPDATE {EVENTS} SET position = position + 1000 WHERE position >= 6",
        f"UPDATE {EVENTS} SET position = position - 999 WHERE position >= 1000",
        copy_row(5, 6, leaf=leaf, signature=signature),
        forged=bytes(range(64)),
    )
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (6, "inserted")
    # The rows shifted by the insertion are its consequence, not separate findings.
    assert [p["position"] for p in report["problems"] if p["position"] is not None] == [6]


def test_inserted_rows_with_low_notification_ids_are_still_inserted(history, cli):
    """The unsigned id column cannot decide: give the forged row the smallest id there is."""
    run_sql(
        history,
        f"UPDATE {EVENTS} SET position = position + 1000 WHERE position >= 6",
        f"UPDATE {EVENTS} SET position = position - 999 WHERE position >= 1000",
        copy_row(5, 6, leaf="prev_hash", signature=":forged", ident="-5"),
        forged=bytes(range(64)),
    )
    assert first(verify(cli, history)[1]) == (6, "inserted")


def test_reordered_entries_are_found(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET position = 1000 WHERE position = 3",
        f"UPDATE {EVENTS} SET position = 3 WHERE position = 4",
        f"UPDATE {EVENTS} SET position = 4 WHERE position = 1000",
    )
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (3, "reordered")


def test_reordered_with_swapped_notification_ids_is_still_reordered(history, cli):
    """Swapping the unsigned ids too (so id order matches the new order) changes nothing."""
    run_sql(
        history,
        f"UPDATE {EVENTS} SET position = 1000, id = id + 100000 WHERE position = 3",
        f"UPDATE {EVENTS} SET position = 3 WHERE position = 4",
        f"UPDATE {EVENTS} SET position = 4 WHERE position = 1000",
    )
    assert first(verify(cli, history)[1]) == (3, "reordered")


def test_truncated_ledger_is_found_against_the_checkpoint(history, cli):
    run_sql(history, f"DELETE FROM {EVENTS} WHERE position >= 20")
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (20, "truncated")


def test_bad_signature_is_found(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET signature = (SELECT signature FROM {EVENTS} WHERE position = 1) "
        "WHERE position = 7",
    )
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (7, "bad signature")


def test_unknown_key_is_found(history, cli):
    run_sql(history, f"UPDATE {EVENTS} SET key_id = 'deadbeef' WHERE position = 11")
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (11, "unknown key")


def test_rewritten_chain_link_is_found(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET prev_hash = (SELECT prev_hash FROM {EVENTS} WHERE position = 2) "
        "WHERE position = 8",
    )
    code, report = verify(cli, history)
    assert code == 1
    # The signature covers the link, so a changed link is first a broken signature.
    assert first(report) == (8, "bad signature")


def test_two_tamperings_are_both_reported(history, cli):
    run_sql(
        history,
        f"UPDATE {EVENTS} SET state = :s WHERE position = 3",
        f"DELETE FROM {EVENTS} WHERE position = 17",
        s=b"{}",
    )
    _, report = verify(cli, history)
    found = [(p["position"], p["kind"]) for p in report["problems"] if p["position"] is not None]
    assert found[:2] == [(3, "modified"), (17, "deleted")]


def test_a_row_without_a_usable_position_is_reported(history, cli):
    run_sql(
        history,
        copy_row(5, -1),
    )
    code, report = verify(cli, history)
    assert code == 1
    assert report["problems"][0]["kind"] == "inserted"
    assert "1 rows have no position" in report["problems"][0]["detail"]


@pytest.fixture
def sqlite_history(sqlite_settings):
    """SQLite only: its columns take any type, which is an attack of its own."""
    fill(sqlite_settings, 12)
    Ledger.from_settings(sqlite_settings).issue_checkpoint(NOW)
    return sqlite_settings


@pytest.fixture
def postgres_history(postgres_url, tmp_path):
    """PostgreSQL only: there a constraint can be dropped by name."""
    settings = make_settings(tmp_path / "pg-home", postgres_url)
    fill(settings, 12)
    Ledger.from_settings(settings).issue_checkpoint(NOW)
    return settings


def test_text_in_a_number_column_is_modified_not_a_crash(sqlite_history, cli):
    history = sqlite_history
    run_sql(history, f"UPDATE {EVENTS} SET originator_version = 'x' WHERE position = 12")
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (12, "modified")


def test_a_second_row_at_one_position_is_inserted(postgres_history, cli):
    history = postgres_history
    run_sql(
        history,
        f"ALTER TABLE {EVENTS} DROP CONSTRAINT ledger_events_position_key",
        copy_row(5, 9),
    )
    code, report = verify(cli, history)
    assert code == 1
    assert first(report) == (9, "inserted")


# --- checkpoints stored in the database are evidence, not input ---------------------------------


def test_a_garbage_checkpoint_row_is_a_problem_and_rows_are_still_checked(history, cli):
    run_sql(
        history,
        f"UPDATE {CHECKPOINTS} SET note = 'not a note at all'",
        f"UPDATE {EVENTS} SET state = :s WHERE position = 4",
        s=b"{}",
    )
    code, report = verify(cli, history)
    assert code == 1
    kinds = [(p["position"], p["kind"]) for p in report["problems"]]
    assert kinds == [(4, "modified"), (None, "checkpoint")]


def test_an_altered_checkpoint_row_is_a_problem(history, cli):
    note = query(history, f"SELECT note FROM {CHECKPOINTS}")[0][0]
    altered = note.replace("\n24\n", "\n23\n", 1)
    run_sql(history, f"UPDATE {CHECKPOINTS} SET note = :n", n=altered)
    code, report = verify(cli, history)
    assert code == 1
    assert report["problems"][0]["kind"] == "checkpoint"
    assert "does not verify" in report["problems"][0]["detail"]


def test_a_checkpoint_row_signed_by_an_unknown_key_is_a_problem(history, cli, tmp_path):
    from ledger.keys import Keyring

    stranger = Keyring(tmp_path / "stranger", "test/ledger").signing_key()
    leaf = Ledger.from_settings(history)
    forged = Checkpoint("test/ledger", 24, leaf.tree.root(24)).sign(stranger)
    add_checkpoint_row(history, forged)
    code, report = verify(cli, history)
    assert code == 1
    assert [p["kind"] for p in report["problems"]] == ["checkpoint"]
    assert "not signed by a known key" in report["problems"][0]["detail"]


def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork(history, cli):
    key = keyring_for(history).signing_key()
    other = Checkpoint("test/ledger", 24, bytes(32)).sign(key)
    add_checkpoint_row(history, other)
    code, report = verify(cli, history)
    assert code == 1
    forks = [p for p in report["problems"] if p["kind"] == "fork"]
    assert len(forks) == 1
    assert other in forks[0]["notes"]
    assert len(forks[0]["notes"]) == 2


def test_a_smaller_checkpoint_off_the_history_is_a_fork(history, cli, tmp_path):
    key = keyring_for(history).signing_key()
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(Checkpoint("test/ledger", 10, bytes(32)).sign(key))
    code, report = verify(cli, history, "--checkpoint", str(kept))
    assert code == 1
    assert [p["kind"] for p in report["problems"]] == ["fork"]
    assert kept.read_text() in report["problems"][0]["notes"]


# --- the Merkle cache: the signer derives the head from the events -----------------------------


def test_rows_added_to_the_merkle_cache_make_the_signer_refuse(history, cli):
    fill(history, 1)
    is_sqlite = history.database_url.startswith("sqlite")
    node_type = "" if is_sqlite else "::bigint"
    run_sql(
        history,
        f"INSERT INTO {NODES} (node, hash) VALUES (26{node_type}, :h), (27{node_type}, :h)",
        h=bytes(32),
    )
    before = query(history, f"SELECT count(*) FROM {CHECKPOINTS}")[0][0]
    result = cli(history, "ledger", "checkpoint")
    assert result.exit_code == 2
    assert "Merkle cache" in result.output and "--rebuild-tree" in result.output
    assert query(history, f"SELECT count(*) FROM {CHECKPOINTS}")[0][0] == before
    rebuilt = cli(history, "ledger", "checkpoint", "--rebuild-tree", "--json")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert '"tree_size": 26' in rebuilt.output
    assert verify(cli, history)[0] == 0


def test_an_edited_merkle_node_makes_the_signer_refuse(history, cli):
    fill(history, 1)
    # The subtree over leaves 16..23, which the head at 26 is built on.
    run_sql(history, f"UPDATE {NODES} SET hash = :h WHERE node = :n", h=bytes(32), n=3 << 48 | 2)
    result = cli(history, "ledger", "checkpoint")
    assert result.exit_code == 2
    assert "Merkle cache" in result.output


def test_a_forged_entry_is_never_signed_into_a_checkpoint(history, cli, tmp_path):
    from ledger.keys import Keyring

    stranger = Keyring(tmp_path / "stranger", "test/ledger").signing_key()
    position = append_forged(history, stranger, "forged:Entry.Made", b"{}")
    result = cli(history, "ledger", "checkpoint")
    assert result.exit_code == 2
    assert f"position {position} does not verify" in result.output


def test_inclusion_proofs_are_checked_against_the_signed_root(history, cli):
    run_sql(history, f"UPDATE {NODES} SET hash = :h WHERE node = 2", h=bytes(32))
    result = cli(history, "ledger", "proof", "3")
    assert result.exit_code == 2
    assert result.output.startswith("error:")


def test_a_row_planted_far_beyond_the_end_is_found_without_walking_the_gap(history, cli):
    """A row at position 2^40 must not make verify walk a trillion empty positions."""
    run_sql(history, copy_row(5, 1 << 40))
    code, report = verify(cli, history)
    assert code == 1
    found = {(p["position"], p["kind"]) for p in report["problems"]}
    assert (24, "deleted") in found  # positions 24 .. 2^40 - 1 are not there
    assert any(position == 1 << 40 for position, _ in found)
    assert report["root_hash"] == ""  # no tree head past the first missing position


def test_thousands_of_broken_signatures_are_reported_without_a_query_each(settings, cli):
    """Every signature broken: the report still comes, capped, and says how many it left out."""
    fill(settings, 300)  # 600 entries
    run_sql(settings, f"UPDATE {EVENTS} SET signature = :s", s=bytes(64))
    code, report = verify(cli, settings)
    assert code == 1
    assert report["first_bad_position"] == 0
    assert len(report["problems"]) == 50 and report["problems_left_out"] >= 550
    assert {p["kind"] for p in report["problems"]} == {"bad signature"}


def test_a_checkpoint_row_of_another_type_derails_neither_verify_nor_the_signer(
    sqlite_history, cli
):
    """SQLite takes a number in the note column; the signer and proofs skip it, verify names it."""
    history = sqlite_history
    add_checkpoint_row(history, "x")
    run_sql(
        history,
        f"UPDATE {CHECKPOINTS} SET note = 42 WHERE id = (SELECT max(id) FROM {CHECKPOINTS})",
    )
    code, report = verify(cli, history)
    assert code == 1 and [p["kind"] for p in report["problems"]] == ["checkpoint"]
    assert cli(history, "ledger", "proof", "3").exit_code == 0
    fill(history, 1)
    assert cli(history, "ledger", "checkpoint").exit_code == 0
