"""Keys that really retire: writers follow a handover under the lock, verify knows each key's
window of positions, a retired key's thief cannot hand over, and a revoked key is flagged."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil

import pytest
from eventsourcing.application import Application

from ledger import rotation
from ledger.application import open_application
from ledger.checkpoint import Checkpoint
from ledger.key_history import KeyHistory, handover_message
from ledger.keys import Keyring, LedgerKeyError
from ledger.ledger import Ledger, keyring_for
from ledger.persistence import RetiredKeyError
from tests.ledger.attack import (
    EVENTS,
    add_checkpoint_row,
    append_forged,
    first,
    query,
    verify,
)
from tests.ledger.history import NOW, Dossier, Dossiers, fill


def rotate(cli, settings) -> str:
    """The ledger's own act (the organiser's signed decision around it is tested in
    tests/cli/test_key_decisions.py)."""
    rotation.rotate(settings, operator="test", reason="test")
    return keyring_for(settings).signing_key().key_id


def keys_of(settings) -> list[str]:
    return [row[0] for row in query(settings, f"SELECT key_id FROM {EVENTS} ORDER BY position")]


def handover_position(settings) -> int:
    return query(
        settings,
        f"SELECT position FROM {EVENTS} WHERE topic = 'ledger.key_history:KeyHistory.HandedOver'",
    )[0][0]


def test_a_process_opened_before_a_rotation_signs_with_the_new_key(settings, cli):
    stale = fill(settings, 2)  # an application opened, and writing, before the rotation
    retired = keyring_for(settings).signing_key().key_id
    successor = rotate(cli, settings)
    stale.save(Dossier("after the rotation"))
    assert keys_of(settings)[-1] == successor != retired
    code, report = verify(cli, settings)
    assert code == 0, report


def test_a_process_that_lacks_the_new_key_refuses_to_write(settings, cli, tmp_path):
    fill(settings, 1)
    elsewhere = dataclasses.replace(settings, home=tmp_path / "other-host")
    shutil.copytree(settings.keys_dir, elsewhere.keys_dir)  # a host holding only the old key
    stale = open_application(Dossiers, elsewhere)
    rotate(cli, settings)
    before = len(keys_of(settings))
    with pytest.raises(RetiredKeyError, match="retired"):
        stale.save(Dossier("signed with a retired key"))
    assert len(keys_of(settings)) == before


def test_an_entry_signed_by_a_retired_key_is_found(settings, cli):
    fill(settings, 2)
    retired_key = keyring_for(settings).signing_key()  # what a thief kept
    rotate(cli, settings)
    position = append_forged(settings, retired_key, "x:Forged.Made", b"{}")
    code, report = verify(cli, settings)
    assert code == 1
    assert first(report) == (position, "retired key")


def test_a_checkpoint_signed_by_a_retired_key_beyond_its_window_is_found(settings, cli):
    fill(settings, 2)
    retired_key = keyring_for(settings).signing_key()
    rotate(cli, settings)
    the_ledger = Ledger.from_settings(settings)
    signed = the_ledger.issue_checkpoint(NOW)
    size = signed.checkpoint.tree_size
    forged = Checkpoint(settings.origin, size, signed.checkpoint.root_hash).sign(retired_key)
    add_checkpoint_row(settings, forged)
    code, report = verify(cli, settings)
    assert code == 1
    assert [p["kind"] for p in report["problems"]] == ["retired key"]


def test_the_thief_of_a_retired_key_cannot_hand_over(settings, cli, tmp_path):
    fill(settings, 2)
    retired_key = keyring_for(settings).signing_key()
    rotate(cli, settings)
    thief = Keyring(tmp_path / "thief", settings.origin).signing_key()
    state = {
        "retired": retired_key.key_id,
        "successor": thief.key_id,
        "successor_key": thief.verifier.encode(),
        "handover": base64.b64encode(
            retired_key.sign(handover_message(retired_key.verifier, thief.verifier.encode()))
        ).decode(),
    }
    position = append_forged(
        settings, thief, "ledger.key_history:KeyHistory.HandedOver", json.dumps(state).encode()
    )
    # Even an auditor fooled into trusting the thief's key sees the forged handover.
    keys = tmp_path / "trusted.vkeys"
    keys.write_text(cli(settings, "ledger", "keys").output + thief.verifier.encode() + "\n")
    code, report = verify(cli, settings, "--keys", str(keys))
    assert code == 1
    assert first(report) == (position, "bad handover")
    assert "the active key was" in report["problems"][0]["detail"]


def test_a_handover_the_outgoing_key_did_not_sign_is_found(settings, cli):
    fill(settings, 2)
    keyring = keyring_for(settings)
    outgoing, incoming = keyring.signing_key(), keyring.new_key()
    history = KeyHistory(settings.origin)
    open_application(Application, settings).save(history)
    app = open_application(
        Application,
        settings,
        LEDGER_HANDOVER_FROM=outgoing.key_id,
        LEDGER_HANDOVER_TO=incoming.key_id,
    )
    history.handed_over(
        retired=outgoing.key_id,
        successor=incoming.key_id,
        successor_key=incoming.verifier.encode(),
        handover=base64.b64encode(bytes(64)).decode(),
        operator="mallory",
        reason="no consent",
        at=NOW,
    )
    app.save(history)
    code, report = verify(cli, settings)
    assert code == 1
    assert first(report) == (handover_position(settings), "bad handover")
    assert "did not sign this handover" in report["problems"][0]["detail"]


def test_a_revoked_key_is_flagged_from_its_position_on(settings, cli):
    fill(settings, 3)  # positions 0..5, all signed by the first key
    compromised = keyring_for(settings).signing_key().key_id
    rotate(cli, settings)
    rotation.revoke(settings, compromised, 3, operator="test", reason="leak")
    code, report = verify(cli, settings)
    assert code == 1
    flagged = [p["position"] for p in report["problems"] if p["kind"] == "revoked key"]
    # 3..5 and the key history opened by that key before the handover.
    assert flagged[0] == 3
    assert flagged == list(range(3, handover_position(settings)))


def test_the_active_key_cannot_be_revoked_nor_an_unknown_one(settings, cli):
    fill(settings, 1)
    active = keyring_for(settings).signing_key().key_id
    before = len(keys_of(settings))
    for key_id, position, message in [
        (active, 0, "is the active key"),
        ("00000000", 0, "no ledger key"),
        (active, -1, "must be a position"),
    ]:
        with pytest.raises(LedgerKeyError, match=message):
            rotation.revoke(settings, key_id, position, operator="test", reason="x")
    assert len(keys_of(settings)) == before


def test_keys_are_listed_oldest_first(settings, cli):
    fill(settings, 1)
    order = [keyring_for(settings).signing_key().key_id]
    for _ in range(3):
        order.append(rotate(cli, settings))
    listed = [line.split("+")[1] for line in cli(settings, "ledger", "keys").output.splitlines()]
    assert listed == order
