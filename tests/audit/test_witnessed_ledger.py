"""What witnesses buy: ``huiyan ledger verify`` demands K of N cosignatures, and a history
rewritten with the log's real key is caught by whoever kept an earlier witnessed checkpoint,
while the witness refuses to cosign the rewritten head."""

from __future__ import annotations

import base64
import json

import pytest

from ledger.checkpoint import parse_note
from ledger.ledger import Ledger, keyring_for
from ledger.merkle import ProofError, verify_consistency
from tests.audit.witnesses import make_witness, serving, with_witnesses
from tests.ledger.attack import query, run_sql
from tests.ledger.history import fill, huiyan_for, make_settings


@pytest.fixture
def sqlite_settings(tmp_path):
    return make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


def verify(settings, *args: str) -> tuple[int, dict]:
    result = huiyan_for(settings, "ledger", "verify", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_verify_demands_k_of_n_valid_cosignatures_and_names_the_others(tmp_path, sqlite_settings):
    fill(sqlite_settings, 3)
    w1, w2, w3 = (
        make_witness(tmp_path / name, sqlite_settings, f"witness.test/{name}")
        for name in ("w1", "w2", "w3")
    )
    with serving(w1) as url1, serving(w2) as url2:
        with serving(w3) as url3:
            pass  # w3 is down when the checkpoint is issued
        settings = with_witnesses(sqlite_settings, (url1, w1), (url2, w2), (url3, w3))
        assert huiyan_for(settings, "ledger", "checkpoint").exit_code == 0
    vkeys = [w.key.verifier for w in (w1, w2, w3)]
    keys = [arg for key in vkeys for arg in ("--witness-key", key.encode())]
    assert verify(sqlite_settings, *keys, "--witnesses", "2")[0] == 0
    code, report = verify(sqlite_settings, *keys, "--witnesses", "3")
    assert code == 1
    (problem,) = report["problems"]
    assert problem["kind"] == "witnesses"
    assert "2 valid witness cosignatures, 3 required" in problem["detail"]
    assert f"missing from witness.test/w3 ({vkeys[2].key_id})" in problem["detail"]
    assert "w1" not in problem["detail"] and "w2" not in problem["detail"]
    assert verify(sqlite_settings, *keys)[0] == 1  # all of them by default
    # A kept cosignature edited in the database counts for nothing, and is named.
    ((line,),) = query(
        sqlite_settings,
        "SELECT line FROM ledger_events_cosignatures WHERE key_id = :k",
        k=vkeys[0].key_id,
    )
    prefix, encoded = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1  # a bit of the signature itself (a base64 letter may only hold padding bits)
    flipped = f"{prefix} {base64.b64encode(bytes(raw)).decode()}"
    run_sql(
        sqlite_settings,
        "UPDATE ledger_events_cosignatures SET line = :l WHERE key_id = :k",
        l=flipped,
        k=vkeys[0].key_id,
    )
    code, report = verify(sqlite_settings, *keys, "--witnesses", "2")
    assert code == 1
    detail = report["problems"][0]["detail"]
    assert "1 valid witness cosignatures, 2 required" in detail
    assert f"invalid from witness.test/w1 ({vkeys[0].key_id}): the signature does not" in detail


def test_verify_refuses_unusable_witness_options(sqlite_settings):
    fill(sqlite_settings, 1)
    huiyan_for(sqlite_settings, "ledger", "checkpoint")
    log_key = keyring_for(sqlite_settings).signing_key().verifier.encode()
    for args, message in (
        (("--witnesses", "1"), "--witnesses needs the witnesses' keys"),
        (("--witness-key", log_key), "is not an Ed25519 key of signature type 0x04"),
    ):
        result = huiyan_for(sqlite_settings, "ledger", "verify", *args)
        assert result.exit_code == 2
        assert message in result.stderr and "Traceback" not in result.output


def test_a_history_rewritten_with_the_real_key_is_caught_and_never_cosigned(
    tmp_path, sqlite_settings
):
    fill(sqlite_settings, 5)  # 10 entries
    witness = make_witness(tmp_path / "witness", sqlite_settings)
    with serving(witness) as url:
        honest = with_witnesses(sqlite_settings, (url, witness))
        kept = tmp_path / "kept-checkpoint"
        kept.write_text(huiyan_for(honest, "ledger", "checkpoint").stdout)
        # The operator, holding the real key, rewrites the history (another database, same key
        # folder) a little longer, and signs its head.
        rewritten = make_settings(sqlite_settings.home, f"sqlite:///{tmp_path / 'rewritten.db'}")
        rewritten = with_witnesses(rewritten, (url, witness))
        fill(rewritten, 6)
        forged = huiyan_for(rewritten, "ledger", "checkpoint")
    # It is a checkpoint genuinely signed by the log's key ...
    log_keys = keyring_for(sqlite_settings).verifier_keys()
    forged_head = parse_note(forged.stdout, log_keys)
    assert forged_head.checkpoint.tree_size == 12
    # ... which the witness refused: it was asked from 0, heard 10, and no proof from its 10
    # reaches the forged root.
    assert forged.exit_code == 0
    assert "FAILED: refused: 422" in forged.stderr
    assert "\u2014 witness.test/w1" not in forged.stdout
    state = witness.state(sqlite_settings.origin)
    assert state.size == 10
    assert state.root == parse_note(kept.read_text(), log_keys).checkpoint.root_hash
    assert [note for _, note, _ in witness.refused()] == [forged_head.note]
    # Whoever kept the witnessed checkpoint sees the rewrite: no consistency proof exists ...
    held = parse_note(kept.read_text(), log_keys)
    proof = Ledger.from_settings(rewritten).tree.consistency_proof(10, 12)
    with pytest.raises(ProofError):
        verify_consistency(
            10, 12, held.checkpoint.root_hash, forged_head.checkpoint.root_hash, proof
        )
    # ... and verify says so, though every entry of the rewritten ledger is validly signed.
    wkey = witness.key.verifier.encode()
    code, report = verify(rewritten, "--checkpoint", str(kept), "--witness-key", wkey)
    assert code == 1
    assert {p["kind"] for p in report["problems"]} == {"fork"}
    assert all(p["position"] is None for p in report["problems"])
    # The honest ledger, with the same kept checkpoint, is intact and witnessed.
    assert verify(sqlite_settings, "--checkpoint", str(kept), "--witness-key", wkey)[0] == 0
