"""The standalone verifier (audit/verify.py, imported as a file) against the project's fixed
answers: the golden ledger's bytes, hashes, links, signatures, handover and checkpoint
(tests/ledger/golden), transparency-dev's RFC 9162 vectors (tests/ledger/vectors), and a
bundle of the golden ledger itself, whole and as a matter."""

from __future__ import annotations

import base64
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from audit.bundle import Scope, write_bundle
from domain.accounts import Actor, Role
from ledger.checkpoint import Checkpoint
from ledger.entry import chain_hash, entry_leaf_hash, signed_message
from ledger.ledger import Ledger
from ledger.merkle import root_from_leaf_hashes
from tests.audit.bundles import load_verifier
from tests.ledger.golden.load import GOLDEN, golden_database, golden_keyring, recorder

VERIFY = load_verifier()
VECTORS = json.loads(
    (Path(__file__).parents[1] / "ledger" / "vectors" / "transparency_dev_rfc6962.json").read_text()
)
ROWS = GOLDEN["rows"]
GOLDEN_KEYS = VERIFY.read_keys(GOLDEN["verifier_keys"])


def row(record: dict) -> object:
    return VERIFY.row_of(record)


def test_the_entry_bytes_hashes_links_and_signatures_are_the_golden_ones():
    first = row(ROWS[0])
    made = VERIFY.entry_bytes(0, first.originator, first.version, first.topic.encode(),
                              first.state)  # fmt: skip
    assert made.hex() == GOLDEN["entry_bytes_0"]
    previous = VERIFY.GENESIS
    for record in ROWS:
        entry = row(record)
        made = VERIFY.entry_bytes(entry.position, entry.originator, entry.version,
                                  entry.topic.encode(), entry.state)  # fmt: skip
        assert VERIFY.leaf_hash(made) == entry.leaf
        assert entry.prev == previous
        previous = VERIFY.chain(entry.prev, entry.leaf)
        key = GOLDEN_KEYS[entry.key_id]
        assert key.verifies(entry.signature, VERIFY.SIGNATURE_PREFIX + entry.leaf + entry.prev)
        assert not key.verifies(entry.signature, VERIFY.SIGNATURE_PREFIX + entry.prev + entry.leaf)


def test_the_golden_checkpoint_and_key_history():
    rows = [row(record) for record in ROWS]
    note = VERIFY.read_note(GOLDEN["checkpoint"], GOLDEN_KEYS)
    frontier = VERIFY.Frontier()
    for entry in rows:
        frontier.append(entry.leaf)
    assert (note.origin, note.size, note.root) == (GOLDEN["origin"], len(rows), frontier.root())
    events = [e for e in rows if e.topic in (VERIFY.HANDOVER_TOPIC, VERIFY.REVOKED_TOPIC)]
    windows, faults = VERIFY.key_windows(rows[0].key_id, events, GOLDEN_KEYS)
    handover = events[0].position
    first, second = GOLDEN["private_keys"]
    assert (windows, faults) == ({first: (0, handover - 1, None), second: (handover, None, None)},
                                 {})  # fmt: skip
    assert note.key_id == second
    with pytest.raises(VERIFY.Bad, match="not signed by a trusted key"):
        VERIFY.read_note(GOLDEN["checkpoint"], {first: GOLDEN_KEYS[first]})
    changed = GOLDEN["checkpoint"].replace(f"\n{len(rows)}\n", f"\n{len(rows) - 1}\n")
    with pytest.raises(VERIFY.Bad, match="does not verify"):
        VERIFY.read_note(changed, GOLDEN_KEYS)


def test_a_handover_the_outgoing_key_did_not_sign_is_named():
    rows = [row(record) for record in ROWS]
    handover = next(e for e in rows if e.topic == VERIFY.HANDOVER_TOPIC)
    fields = json.loads(handover.state)
    fields["handover"] = base64.b64encode(bytes(64)).decode()
    forged = VERIFY.Row(**{**handover.__dict__, "state": json.dumps(fields).encode()})
    _, faults = VERIFY.key_windows(rows[0].key_id, [forged], GOLDEN_KEYS)
    assert "did not sign this handover" in faults[handover.position]


def test_rfc9162_known_answers_and_their_corruptions():
    leaves = [VERIFY.leaf_hash(bytes.fromhex(leaf)) for leaf in VECTORS["leaves_hex"]]
    for size, root in enumerate(VECTORS["roots_by_size"]):
        frontier = VERIFY.Frontier()
        for leaf in leaves[:size]:
            frontier.append(leaf)
        assert frontier.root().hex() == root
    roots = [bytes.fromhex(root) for root in VECTORS["roots_by_size"]]
    for case in VECTORS["inclusion"]:
        index, size, path = case["index"], case["size"], [bytes.fromhex(h) for h in case["proof"]]
        VERIFY.verify_inclusion(leaves[index], index, size, path, roots[size])
        # (a wrong size of the same shape passes, docs/merkle.md: sizes come from checkpoints)
        if path:
            with pytest.raises(VERIFY.Bad):
                VERIFY.verify_inclusion(leaves[index], index, size, path[:-1], roots[size])
            with pytest.raises(VERIFY.Bad):
                VERIFY.verify_inclusion(leaves[index], index, size, path, roots[size - 1])
        for n in range(len(path)):
            bad = [*path[:n], bytes([path[n][0] ^ 1]) + path[n][1:], *path[n + 1 :]]
            with pytest.raises(VERIFY.Bad):
                VERIFY.verify_inclusion(leaves[index], index, size, bad, roots[size])
    for case in VECTORS["consistency"]:
        old, new = case["old_size"], case["new_size"]
        proof = [bytes.fromhex(h) for h in case["proof"]]
        VERIFY.verify_consistency(old, new, roots[old], roots[new], proof)
        if proof:
            with pytest.raises(VERIFY.Bad):
                VERIFY.verify_consistency(old, new, roots[old], roots[new], proof[:-1])
            with pytest.raises(VERIFY.Bad):
                VERIFY.verify_consistency(old, new, roots[new], roots[old], proof)


# --- a bundle of the golden ledger ---------------------------------------------------------


@pytest.fixture
def golden_ledger(tmp_path) -> Ledger:
    url, keyring = golden_database(tmp_path)
    ledger = Ledger(sa.create_engine(url), keyring)
    yield ledger
    ledger.engine.dispose()


def export(ledger: Ledger, scope: Scope, out: Path) -> Path:
    head = ledger.latest_checkpoint()
    assert head is not None and head.note == GOLDEN["checkpoint"]
    auditor = Actor(uuid4(), Role.AUDIT_ADMINISTRATOR)
    write_bundle(ledger, scope, head, out, exporter=auditor, now=datetime(2026, 12, 1, tzinfo=UTC))
    return out


def run(capsys, *args: object) -> tuple[int, str]:
    code = VERIFY.main([str(a) for a in args])
    return code, capsys.readouterr().out


def test_a_bundle_of_the_golden_ledger_verifies(golden_ledger, tmp_path, capsys):
    bundle = export(golden_ledger, Scope("all"), tmp_path / "golden.zip")
    with zipfile.ZipFile(bundle) as archive:
        events = [json.loads(line) for line in archive.read("events.jsonl").splitlines()]
    assert events == ROWS  # the rows exactly as stored
    keys = tmp_path / "golden.vkeys"
    keys.write_text("\n".join(GOLDEN["verifier_keys"]) + "\n")
    kept = tmp_path / "golden.note"
    kept.write_text(GOLDEN["checkpoint"])
    intact = f"bundle intact: {len(ROWS)} entries, checkpoint size {len(ROWS)}, 0 personal " \
        "signatures\n"  # fmt: skip
    assert run(capsys, bundle, "--keys", keys) == (0, intact)
    assert run(capsys, bundle, "--checkpoint", kept) == (0, intact)
    first_only = tmp_path / "first.vkeys"
    first_only.write_text(GOLDEN["verifier_keys"][0] + "\n")
    code, line = run(capsys, bundle, "--keys", first_only)
    assert code == 1 and "which is not trusted" in line


def test_a_matter_of_the_golden_ledger_carries_what_it_needs(golden_ledger, tmp_path, capsys):
    """One dossier: its entries, the first entry and the key history, each proven."""
    dossier = UUID(ROWS[2]["originator_id"])
    bundle = export(golden_ledger, Scope("team", dossier, (dossier,)), tmp_path / "matter.zip")
    with zipfile.ZipFile(bundle) as archive:
        events = [json.loads(line) for line in archive.read("events.jsonl").splitlines()]
    wanted = [r for r in ROWS if r["originator_id"] == str(dossier) or r["position"] == 0
              or r["topic"].startswith("ledger.key_history:")]  # fmt: skip
    assert events == wanted and len(wanted) < len(ROWS)
    keys = tmp_path / "golden.vkeys"
    keys.write_text("\n".join(GOLDEN["verifier_keys"]) + "\n")
    code, line = run(capsys, bundle, "--keys", keys)
    assert (code, line) == (0, f"bundle intact: {len(wanted)} entries, checkpoint size "
                               f"{len(ROWS)}, 0 personal signatures\n")  # fmt: skip


def test_an_entry_signed_by_a_retired_key_is_named(tmp_path, capsys):
    """A thief of the retired key appends an entry (and the active key signs a checkpoint
    over it): the entry is outside its key's window."""
    url, keyring = golden_database(tmp_path)
    retired, active = golden_keyring(tmp_path / "thief")[1]
    last = ROWS[-1]
    position, late = len(ROWS), uuid4()
    state = b'{"title":"late"}'
    topic = "tests.ledger.history:Dossier.Opened"
    leaf = entry_leaf_hash(position, late, 1, topic, state)
    prev = chain_hash(bytes.fromhex(last["prev_hash"]), bytes.fromhex(last["leaf_hash"]))
    table = recorder(url, keyring)
    with table.datastore.transaction(commit=True) as session:
        session.execute(
            table.events_record_cls.__table__.insert(),
            [{"position": position, "originator_id": late, "originator_version": 1,
              "topic": topic, "state": state, "leaf_hash": leaf, "prev_hash": prev,
              "key_id": retired.key_id, "signature": retired.sign(signed_message(leaf, prev))}],
        )  # fmt: skip
    table.datastore.engine.dispose()
    ledger = Ledger(sa.create_engine(url), keyring)
    root = root_from_leaf_hashes([*(bytes.fromhex(r["leaf_hash"]) for r in ROWS), leaf])
    note = Checkpoint(GOLDEN["origin"], position + 1, root).sign(active)
    with ledger.engine.begin() as conn:
        conn.execute(ledger._checkpoints.insert().values(
            tree_size=position + 1, root_hash=root, key_id=active.key_id, note=note,
            issued_at=datetime(2026, 12, 1, tzinfo=UTC)))  # fmt: skip
    head = ledger.latest_checkpoint()
    assert head is not None and head.checkpoint.tree_size == position + 1
    bundle = tmp_path / "late.zip"
    auditor = Actor(uuid4(), Role.AUDIT_ADMINISTRATOR)
    write_bundle(ledger, Scope("all"), head, bundle, exporter=auditor,
                 now=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
    ledger.engine.dispose()
    keys = tmp_path / "golden.vkeys"
    keys.write_text("\n".join(GOLDEN["verifier_keys"]) + "\n")
    code, line = run(capsys, bundle, "--keys", keys)
    assert code == 1, line
    assert line.startswith(f"bundle FAILED: events.jsonl position {position} (Dossier.Opened): "
                           f"key {retired.key_id} signs positions 0..")  # fmt: skip
