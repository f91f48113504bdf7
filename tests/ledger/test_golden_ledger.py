"""The byte format, frozen: a ledger signed once (tests/ledger/golden/ledger-v1.json, made by
tests/ledger/golden/make.py) must verify with today's verifier, and today's writer must make
the very same bytes (leaf, link, signature, checkpoint note) for the same events and keys.

Ed25519 signatures are deterministic, so any change in the entry bytes, the chain, the signed
message, the handover message or the note format fails here. A new format is a new version
string and a new golden file; this one must keep verifying.
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from eventsourcing.persistence import StoredEvent

from ledger.checkpoint import Checkpoint, parse_note
from ledger.entry import entry_bytes
from ledger.key_history import HANDOVER_TOPIC
from ledger.keys import Keyring, SigningKey, read_verifier_keys
from ledger.ledger import Ledger
from ledger.merkle import root_from_leaf_hashes
from ledger.persistence import ChainingApplicationRecorder, LedgerDatastore
from ledger.verify import verify_ledger
from tests.ledger.attack import EVENTS

GOLDEN = json.loads((Path(__file__).parent / "golden" / "ledger-v1.json").read_text())
KEYS = read_verifier_keys(GOLDEN["verifier_keys"])


def stored_event(row: dict) -> StoredEvent:
    return StoredEvent(
        UUID(row["originator_id"]),
        row["originator_version"],
        row["topic"],
        bytes.fromhex(row["state"]),
    )


def golden_keyring(folder: Path) -> tuple[Keyring, list[SigningKey]]:
    """A keys folder holding both golden keys, the first one active."""
    folder.mkdir(mode=0o700, parents=True)
    keys = []
    for key_id, text in GOLDEN["private_keys"].items():
        (folder / f"ledger-{key_id}.key").write_text(text)
        private = serialization.load_pem_private_key(text.encode(), password=None)
        keys.append(SigningKey(GOLDEN["origin"], private))
        (folder / f"ledger-{key_id}.vkey").write_text(keys[-1].verifier.encode() + "\n")
    (folder / "ledger-active").write_text(keys[0].key_id + "\n")
    return Keyring(folder, GOLDEN["origin"]), keys


def recorder(url: str, keyring: Keyring, handover=None) -> ChainingApplicationRecorder:
    made = ChainingApplicationRecorder(
        LedgerDatastore(url=url), keyring=keyring, handover=handover, events_table_name=EVENTS
    )
    made.create_table()
    return made


@pytest.fixture
def golden_url(tmp_path) -> str:
    """The golden rows and checkpoint, copied as they are into a fresh database."""
    url = f"sqlite:///{tmp_path / 'golden.sqlite3'}"
    keyring, _ = golden_keyring(tmp_path / "keys")
    made = recorder(url, keyring)
    rows = [
        {
            **row,
            "originator_id": UUID(row["originator_id"]),
            **{c: bytes.fromhex(row[c]) for c in ("state", "leaf_hash", "prev_hash", "signature")},
        }
        for row in GOLDEN["rows"]
    ]
    with made.datastore.transaction(commit=True) as session:
        session.execute(made.events_record_cls.__table__.insert(), rows)
    made.datastore.engine.dispose()
    ledger = Ledger(sa.create_engine(url), keyring)
    with ledger.engine.begin() as conn:
        conn.execute(
            ledger._checkpoints.insert().values(
                tree_size=len(rows),
                root_hash=parse_note(GOLDEN["checkpoint"], KEYS).checkpoint.root_hash,
                key_id="x",
                note=GOLDEN["checkpoint"],
                issued_at=sa.func.current_timestamp(),
            )
        )
    ledger.engine.dispose()
    return url


def test_the_golden_ledger_verifies_today(golden_url):
    kept = parse_note(GOLDEN["checkpoint"], KEYS)
    report = verify_ledger(golden_url, KEYS, [kept])
    assert report.problems == []
    assert report.size == len(GOLDEN["rows"]) == kept.checkpoint.tree_size
    assert bytes.fromhex(report.root_hash) == kept.checkpoint.root_hash
    assert report.checkpoints_checked == [kept.checkpoint.tree_size]


def test_a_changed_golden_row_does_not_verify(golden_url):
    engine = sa.create_engine(golden_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {EVENTS} SET state = x'7b7d' WHERE position = 3"))
    engine.dispose()
    report = verify_ledger(golden_url, KEYS)
    assert (report.first_bad_position, report.problems[0].kind) == (3, "modified")


def test_todays_writer_makes_the_golden_bytes(tmp_path):
    url = f"sqlite:///{tmp_path / 'replayed.sqlite3'}"
    keyring, (first, second) = golden_keyring(tmp_path / "keys")
    rows = GOLDEN["rows"]
    handover = next(i for i, row in enumerate(rows) if row["topic"] == HANDOVER_TOPIC)
    recorder(url, keyring).append([stored_event(row) for row in rows[:handover]])
    recorder(url, keyring, (first.key_id, second.key_id)).append([stored_event(rows[handover])])
    keyring.activate(second)
    receipts = recorder(url, keyring).append([stored_event(row) for row in rows[handover + 1 :]])
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        written = conn.execute(
            sa.text(
                f"SELECT position, leaf_hash, prev_hash, key_id, signature FROM {EVENTS} "
                "ORDER BY position"
            )
        ).all()
    engine.dispose()
    assert [
        (p, bytes(leaf).hex(), bytes(prev).hex(), key, bytes(sig).hex())
        for p, leaf, prev, key, sig in written
    ] == [
        (r["position"], r["leaf_hash"], r["prev_hash"], r["key_id"], r["signature"]) for r in rows
    ]
    assert receipts[-1].position == len(rows) - 1
    root = root_from_leaf_hashes([bytes.fromhex(r["leaf_hash"]) for r in rows])
    assert Checkpoint(GOLDEN["origin"], len(rows), root).sign(second) == GOLDEN["checkpoint"]


def test_the_entry_bytes_are_pinned():
    row = GOLDEN["rows"][0]
    made = entry_bytes(
        0,
        UUID(row["originator_id"]),
        row["originator_version"],
        row["topic"],
        bytes.fromhex(row["state"]),
    )
    assert made.hex() == GOLDEN["entry_bytes_0"]
    assert made.startswith(b"huiyan-ledger-entry/v1\n")
