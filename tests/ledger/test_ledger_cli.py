"""Receipts, checkpoints, proofs, keys and bad input through the ledger's API and CLI."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from ledger import rotation
from ledger.checkpoint import parse_note
from ledger.entry import chain_hash, entry_leaf_hash, signed_message
from ledger.keys import Keyring, LedgerKeyError, read_verifier_keys
from ledger.ledger import Ledger, keyring_for
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.persistence import ChainingApplicationRecorder, LedgerDatastore
from tests.ledger.history import NOW, fill


def test_append_returns_receipts_that_verify_on_their_own(sqlite_settings):
    key = keyring_for(sqlite_settings).signing_key()
    recorder = ChainingApplicationRecorder(
        LedgerDatastore(url=sqlite_settings.database_url),
        keyring=keyring_for(sqlite_settings),
        events_table_name="ledger_events",
    )
    recorder.create_table()
    from uuid import uuid4

    events = [StoredEvent(uuid4(), 1, "t", b"state-a"), StoredEvent(uuid4(), 1, "t", b"state-b")]
    first = recorder.append(events[:1])
    second = recorder.append(events[1:])
    receipts = first + second
    assert [r.position for r in receipts] == [0, 1]
    for receipt, event in zip(receipts, events, strict=True):
        leaf = entry_leaf_hash(receipt.position, event.originator_id, 1, "t", event.state)
        assert receipt.leaf_hash == leaf
        assert key.verifier.verify(receipt.signature, signed_message(leaf, receipt.prev_hash))
    assert receipts[1].prev_hash == chain_hash(receipts[0].prev_hash, receipts[0].leaf_hash)


def test_positions_are_gapless_across_transactions_and_applications(settings):
    fill(settings, 3, notes=2)
    fill(settings, 2, notes=0)
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        positions = conn.execute(
            sa.text("SELECT position FROM ledger_events ORDER BY id")
        ).scalars()
        assert list(positions) == list(range(11))
    engine.dispose()


def test_checkpoint_is_a_signed_c2sp_note_and_is_kept(sqlite_settings, cli):
    fill(sqlite_settings, 5)
    result = cli(sqlite_settings, "ledger", "checkpoint")
    assert result.exit_code == 0, result.output
    lines = result.output.split("\n")
    assert lines[0] == "test/ledger"
    assert lines[1] == "10"
    assert len(base64.b64decode(lines[2])) == 32
    assert lines[3] == ""
    assert lines[4].startswith("\u2014 test/ledger ")
    keys = read_verifier_keys(cli(sqlite_settings, "ledger", "keys").output.splitlines())
    signed = parse_note(result.output, keys)
    the_ledger = Ledger.from_settings(sqlite_settings)
    assert the_ledger.latest_checkpoint().note == result.output
    assert signed.checkpoint.root_hash == the_ledger.tree.root(10)
    # Nothing new: the same checkpoint comes back rather than a duplicate.
    assert cli(sqlite_settings, "ledger", "checkpoint").output == result.output
    assert len(the_ledger.checkpoints()) == 1


def test_consistency_between_two_checkpoints_is_provable(settings):
    fill(settings, 3)
    the_ledger = Ledger.from_settings(settings)
    old_signed = the_ledger.issue_checkpoint(NOW)
    fill(settings, 4)
    new_signed = the_ledger.issue_checkpoint(NOW)
    old, new = old_signed.checkpoint, new_signed.checkpoint
    assert (old.tree_size, new.tree_size) == (6, 14)
    proof = the_ledger.consistency_proof(old_signed, new_signed)
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)


def test_proof_command_proves_inclusion_against_the_latest_checkpoint(sqlite_settings, cli):
    fill(sqlite_settings, 6)
    cli(sqlite_settings, "ledger", "checkpoint")
    result = cli(sqlite_settings, "ledger", "proof", "7", "--json")
    assert result.exit_code == 0, result.output
    proof = json.loads(result.output)
    keys = keyring_for(sqlite_settings).verifier_keys()
    checkpoint = parse_note(proof["checkpoint"], keys).checkpoint
    verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        7,
        proof["tree_size"],
        [bytes.fromhex(node) for node in proof["path"]],
        checkpoint.root_hash,
    )


def test_proof_of_a_position_beyond_the_checkpoint_is_refused(sqlite_settings, cli):
    fill(sqlite_settings, 2)
    cli(sqlite_settings, "ledger", "checkpoint")
    result = cli(sqlite_settings, "ledger", "proof", "4")
    assert result.exit_code == 2
    assert "not in the latest checkpoint" in result.output


def test_keys_are_private_and_rotation_keeps_old_public_keys(sqlite_settings, cli):
    fill(sqlite_settings, 2)
    keyring = keyring_for(sqlite_settings)
    first = keyring.signing_key().key_id
    key_file = keyring.folder / f"ledger-{first}.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    rotation.rotate(sqlite_settings, operator="test", reason="yearly rotation")
    result = cli(sqlite_settings, "ledger", "keys")
    assert result.exit_code == 0
    second = keyring.signing_key().key_id
    assert second != first
    assert not key_file.exists(), "a retired private key must be destroyed"
    exported = read_verifier_keys(result.output.splitlines())
    assert set(exported) == {first, second}
    # The rotation is itself in the ledger, and the new key signed it.
    engine = sa.create_engine(sqlite_settings.database_url)
    with engine.connect() as conn:
        topic, state, key_id = conn.execute(
            sa.text("SELECT topic, state, key_id FROM ledger_events ORDER BY position DESC LIMIT 1")
        ).one()
    engine.dispose()
    assert topic == "ledger.key_history:KeyHistory.HandedOver"
    assert key_id == second
    recorded = json.loads(state)
    assert (recorded["retired"], recorded["successor"]) == (first, second)
    assert recorded["reason"] == "yearly rotation"
    # History signed by the old key and by the new one verifies together.
    fill(sqlite_settings, 2)
    assert cli(sqlite_settings, "ledger", "verify").exit_code == 0


def test_verify_checks_a_checkpoint_the_caller_kept(sqlite_settings, cli, tmp_path):
    fill(sqlite_settings, 4)
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(cli(sqlite_settings, "ledger", "checkpoint").output)
    fill(sqlite_settings, 4)
    cli(sqlite_settings, "ledger", "checkpoint")
    result = cli(sqlite_settings, "ledger", "verify", "--checkpoint", str(kept), "--json")
    # Every stored checkpoint is checked, and the kept one (the same note as the first).
    assert json.loads(result.output)["checkpoints_checked"] == [8, 16]
    # Rewrite history below the kept checkpoint, re-signing it with the ledger's own key and
    # issuing a fresh checkpoint: only the kept checkpoint can still tell, and it proves that
    # the key signed two histories.
    engine = sa.create_engine(sqlite_settings.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_events"))
        conn.execute(sa.text("DELETE FROM ledger_events_checkpoints"))
        conn.execute(sa.text("DELETE FROM ledger_events_merkle_nodes"))
    engine.dispose()
    fill(sqlite_settings, 8)
    cli(sqlite_settings, "ledger", "checkpoint")
    result = cli(sqlite_settings, "ledger", "verify", "--checkpoint", str(kept), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [p["kind"] for p in report["problems"]] == ["fork"]
    assert kept.read_text() in report["problems"][0]["notes"]


def test_verify_with_exported_keys_offline(sqlite_settings, cli, tmp_path):
    fill(sqlite_settings, 3)
    keys_file = tmp_path / "trusted.vkeys"
    keys_file.write_text(cli(sqlite_settings, "ledger", "keys").output)
    stranger = Keyring(tmp_path / "other", "test/ledger").signing_key()
    other_keys = tmp_path / "other.vkeys"
    other_keys.write_text(stranger.verifier.encode() + "\n")
    ok = cli(sqlite_settings, "ledger", "verify", "--keys", str(keys_file))
    assert ok.exit_code == 0
    wrong = cli(sqlite_settings, "ledger", "verify", "--keys", str(other_keys), "--json")
    assert wrong.exit_code == 1
    assert json.loads(wrong.output)["problems"][0]["kind"] == "unknown key"


# --- bad input: one clear line, non-zero exit, nothing written -------------------------------


def count_rows(settings, table: str) -> int:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return value


def test_corrupt_key_file_is_one_line_and_writes_nothing(sqlite_settings, cli):
    fill(sqlite_settings, 2)
    keyring = keyring_for(sqlite_settings)
    key_id = keyring.signing_key().key_id
    (keyring.folder / f"ledger-{key_id}.key").write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n")
    result = cli(sqlite_settings, "ledger", "checkpoint")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "is not a readable PEM private key" in result.output
    engine = sa.create_engine(sqlite_settings.database_url)
    assert not sa.inspect(engine).has_table("ledger_events_merkle_nodes") or (
        count_rows(sqlite_settings, "ledger_events_checkpoints") == 0
    )
    engine.dispose()


def test_active_key_id_without_its_key_is_one_line(sqlite_settings, cli):
    fill(sqlite_settings, 1)
    keyring = keyring_for(sqlite_settings)
    (keyring.folder / "ledger-active").write_text("0badc0de\n")
    result = cli(sqlite_settings, "ledger", "checkpoint")
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot read ledger key")
    assert result.output.count("\n") == 1


def test_empty_database_is_one_line_and_stays_empty(sqlite_settings, cli):
    path = sqlite_settings.database_url.removeprefix("sqlite:///")
    sa.create_engine(sqlite_settings.database_url).connect().close()  # an empty SQLite file
    keyring_for(sqlite_settings).signing_key()
    for command in (("ledger", "verify"), ("ledger", "checkpoint"), ("ledger", "proof", "0")):
        result = cli(sqlite_settings, *command)
        assert result.exit_code == 2, command
        assert (
            result.output
            == "error: no ledger in this database (table ledger_events does not exist)\n"
        )
    engine = sa.create_engine(f"sqlite:///{path}")
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_wrong_database_urls_are_one_line_and_create_nothing(sqlite_settings, cli, tmp_path):
    keyring_for(sqlite_settings).signing_key()
    missing = tmp_path / "nowhere.sqlite3"
    cases = {
        f"sqlite:///{missing}": f"error: no ledger database at {missing}\n",
        "mysql://root@localhost/x": "error: --database-url must start with",
        "postgresql+psycopg://postgres@127.0.0.1:5432/huiyan_no_such_db": "error: cannot open",
    }
    for url, message in cases.items():
        result = cli(sqlite_settings, "ledger", "verify", "--database-url", url)
        assert result.exit_code == 2, url
        assert result.output.startswith(message), result.output
        assert result.output.count("\n") == 1
    assert not missing.exists()


def test_a_provisioned_key_signs_and_no_private_key_is_written(sqlite_settings, cli, tmp_path):
    import dataclasses

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "secret-store" / "ledger.pem"
    key_file.parent.mkdir()
    key_file.write_bytes(pem)
    settings = dataclasses.replace(sqlite_settings, key_path=key_file)
    fill(settings, 2)
    keyring = keyring_for(settings)
    key_id = keyring.signing_key().key_id
    assert not list(keyring.folder.glob("*.key")), "huiyan must not copy a provisioned key"
    assert set(keyring.verifier_keys()) == {key_id}
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        assert set(conn.execute(sa.text("SELECT key_id FROM ledger_events")).scalars()) == {key_id}
    engine.dispose()
    with pytest.raises(LedgerKeyError, match="provisioned"):
        keyring.new_key()


def test_the_transcoder_carries_dates_and_bytes_through_the_ledger(sqlite_settings):
    from datetime import date

    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    from ledger.application import open_application

    class Deadline(Aggregate):
        @event("Set")
        def __init__(self, day: date, digest: bytes) -> None:
            self.day, self.digest = day, digest

    app = open_application(Application, sqlite_settings)
    deadline = Deadline(date(2026, 6, 25), b"\x00\xff")
    app.save(deadline)
    again = open_application(Application, sqlite_settings).repository.get(deadline.id)
    assert (again.day, again.digest) == (date(2026, 6, 25), b"\x00\xff")
