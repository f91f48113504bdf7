"""The witness (audit/witness.py) on real SQLite ledgers: it cosigns a consistent checkpoint in
the C2SP cosignature/v1 format, remembers it on disk before answering, and refuses a smaller
tree, another root at the same size, a bad proof and a checkpoint the log's key did not sign."""

from __future__ import annotations

import base64
import hashlib
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import witness as witness_module
from audit.witness import Conflict, Forbidden, Inconsistent, Refusal, UnknownLog, Witness
from ledger.checkpoint import Checkpoint, note_parts
from ledger.cosignature import check_cosignatures
from ledger.keys import Keyring
from ledger.ledger import Ledger
from ledger.witness_protocol import AddCheckpoint
from tests.audit.witnesses import make_witness, request
from tests.ledger.history import NOW, fill, make_settings


@pytest.fixture
def sqlite_settings(tmp_path):
    return make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


@pytest.fixture
def ledger(sqlite_settings) -> Ledger:
    fill(sqlite_settings, 3)  # 6 entries
    return Ledger.from_settings(sqlite_settings)


@pytest.fixture
def witness(tmp_path, sqlite_settings) -> Witness:
    return make_witness(tmp_path / "witness", sqlite_settings)


def grow(settings, ledger: Ledger, dossiers: int = 2):
    fill(settings, dossiers)
    return ledger.issue_checkpoint(NOW)


def test_a_consistent_checkpoint_is_cosigned_as_c2sp_cosignature_v1(ledger, witness):
    first = ledger.issue_checkpoint(NOW)
    line = witness.add_checkpoint(request(ledger, first, 0))
    # Checked here without huiyan's own code: the key id, the timestamp and the message.
    name, blob = line.removeprefix("\u2014 ").rstrip("\n").rsplit(" ", 1)
    raw = base64.b64decode(blob)
    public = witness.key.verifier.raw
    assert name == "witness.test/w1"
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == int(NOW.timestamp())
    body = first.checkpoint.body
    message = f"cosignature/v1\ntime {int(NOW.timestamp())}\n{body}".encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)  # raises if not
    assert witness.state(first.checkpoint.origin).size == first.checkpoint.tree_size


def test_a_witness_follows_the_log_as_it_grows(sqlite_settings, ledger, witness):
    first = ledger.issue_checkpoint(NOW)
    witness.add_checkpoint(request(ledger, first, 0))
    second = grow(sqlite_settings, ledger)
    line = witness.add_checkpoint(request(ledger, second, first.checkpoint.tree_size))
    key = witness.key.verifier
    check = check_cosignatures(second.checkpoint.body, [line], {key.key_id: key})
    assert list(check.valid) == [key.key_id]
    assert check_cosignatures(first.checkpoint.body, [line], {key.key_id: key}).valid == {}
    state = witness.state(second.checkpoint.origin)
    assert (state.size, state.root, state.note) == (10, second.checkpoint.root_hash, second.note)


def test_the_state_is_on_disk_before_the_answer_and_a_retry_is_cosigned(
    sqlite_settings, ledger, witness, monkeypatch
):
    first = ledger.issue_checkpoint(NOW)
    witness.add_checkpoint(request(ledger, first, 0))
    second = grow(sqlite_settings, ledger)

    def crash(*args):
        raise RuntimeError("the witness died before answering")

    monkeypatch.setattr(witness_module, "cosign", crash)
    with pytest.raises(RuntimeError):
        witness.add_checkpoint(request(ledger, second, 6))
    monkeypatch.undo()
    restarted = Witness(witness.folder, lambda: NOW)  # a new process reads the disk
    assert restarted.state(second.checkpoint.origin).size == 10
    # The log never got the answer, so it retries from the size it knows: 409 names 10 ...
    with pytest.raises(Conflict) as conflict:
        restarted.add_checkpoint(request(ledger, second, 6))
    assert conflict.value.size == 10
    # ... and from there the same checkpoint is cosigned.
    line = restarted.add_checkpoint(request(ledger, second, 10))
    key = restarted.key.verifier
    assert check_cosignatures(second.checkpoint.body, [line], {key.key_id: key}).valid


def test_a_smaller_tree_after_a_larger_one_is_refused(sqlite_settings, ledger, witness):
    first = ledger.issue_checkpoint(NOW)
    second = grow(sqlite_settings, ledger)
    witness.add_checkpoint(request(ledger, second, 0))
    with pytest.raises(Conflict) as conflict:  # the log claims the witness is at 0, or 6 ...
        witness.add_checkpoint(request(ledger, first, 0))
    assert conflict.value.size == 10
    with pytest.raises(Refusal) as refused:  # ... or says so truthfully: old above new
        witness.add_checkpoint(AddCheckpoint(10, [], first.note))
    assert refused.value.status == 400
    assert witness.state(first.checkpoint.origin).size == 10


def test_the_same_size_with_another_root_is_refused_and_kept_as_evidence(
    tmp_path, sqlite_settings, ledger, witness
):
    first = ledger.issue_checkpoint(NOW)
    witness.add_checkpoint(request(ledger, first, 0))
    # Another history of the same size, signed by the same (real) key.
    other = make_settings(sqlite_settings.home, f"sqlite:///{tmp_path / 'other.sqlite3'}")
    fill(other, 3)
    forged = Ledger.from_settings(other).issue_checkpoint(NOW)
    assert forged.checkpoint.tree_size == 6 and forged.key_id == first.key_id
    with pytest.raises(Inconsistent) as refused:
        witness.add_checkpoint(AddCheckpoint(6, [], forged.note))
    assert refused.value.status == 422
    state = witness.state(first.checkpoint.origin)
    assert (state.size, state.root) == (6, first.checkpoint.root_hash)
    assert [(note, "two different roots" in why) for _, note, why in witness.refused()] == [
        (forged.note, True)
    ]


def test_a_proof_that_does_not_lead_to_the_witnessed_root_is_refused(
    sqlite_settings, ledger, witness
):
    first = ledger.issue_checkpoint(NOW)
    witness.add_checkpoint(request(ledger, first, 0))
    second = grow(sqlite_settings, ledger)
    good = request(ledger, second, 6)
    for proof in (
        [bytes(32)] + good.proof[1:],  # a hash replaced
        good.proof[:-1],  # a hash left out
        [],  # none at all
    ):
        with pytest.raises(Inconsistent):
            witness.add_checkpoint(AddCheckpoint(6, proof, second.note))
    assert witness.state(second.checkpoint.origin).size == 6
    assert witness.add_checkpoint(good)  # the right proof still works


def test_a_proof_from_size_zero_must_be_empty(ledger, witness):
    first = ledger.issue_checkpoint(NOW)
    with pytest.raises(Inconsistent):
        witness.add_checkpoint(AddCheckpoint(0, [bytes(32)], first.note))
    assert witness.state(first.checkpoint.origin).size == 0


def test_a_checkpoint_the_log_key_did_not_sign_is_forbidden(
    tmp_path, sqlite_settings, ledger, witness
):
    first = ledger.issue_checkpoint(NOW)
    thief = Keyring(tmp_path / "thief", sqlite_settings.origin).signing_key()
    forged = first.checkpoint.sign(thief)  # same origin and name, another key
    with pytest.raises(Forbidden):
        witness.add_checkpoint(AddCheckpoint(0, [], forged))
    body, (line,) = note_parts(first.note)
    blob = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    blob[-1] ^= 1  # the log's key, a signature that does not verify
    broken = f"{body}\n{line.rsplit(' ', 1)[0]} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(Forbidden):
        witness.add_checkpoint(AddCheckpoint(0, [], broken))
    stranger = Checkpoint("elsewhere.example/log", 6, first.checkpoint.root_hash).sign(thief)
    with pytest.raises(UnknownLog):
        witness.add_checkpoint(AddCheckpoint(0, [], stranger))
    assert witness.state(first.checkpoint.origin).size == 0
    assert witness.refused() == []  # only validly signed checkpoints are evidence


def test_an_empty_tree_needs_the_empty_root(ledger, witness, sqlite_settings):
    log_key = Keyring(sqlite_settings.keys_dir, sqlite_settings.origin).signing_key()
    wrong = Checkpoint(sqlite_settings.origin, 0, bytes(32)).sign(log_key)
    with pytest.raises(Inconsistent):
        witness.add_checkpoint(AddCheckpoint(0, [], wrong))
    empty = Checkpoint(sqlite_settings.origin, 0, hashlib.sha256(b"").digest()).sign(log_key)
    assert witness.add_checkpoint(AddCheckpoint(0, [], empty))


def test_init_makes_a_private_key_and_adds_log_keys_without_forgetting(
    tmp_path, sqlite_settings, ledger, witness
):
    folder = witness.folder
    assert stat.S_IMODE((folder / "witness.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    first = ledger.issue_checkpoint(NOW)
    witness.add_checkpoint(request(ledger, first, 0))
    rotated = Keyring(tmp_path / "next", sqlite_settings.origin).signing_key()
    again = Witness.init(
        folder, lambda: NOW, name=None, origin=sqlite_settings.origin, log_keys=[rotated.verifier]
    )
    assert again.key.verifier == witness.key.verifier
    state = again.state(sqlite_settings.origin)
    assert state.size == 6 and len(state.keys) == 2
    with pytest.raises(witness_module.WitnessError, match="needs --name"):
        Witness.init(tmp_path / "new", lambda: NOW, name=None, origin="o", log_keys=[])
