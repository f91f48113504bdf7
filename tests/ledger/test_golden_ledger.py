"""The byte format, frozen: a ledger signed once (tests/ledger/golden/ledger-v1.json, made by
tests/ledger/golden/make.py) must verify with today's verifier, and today's writer must make
the very same bytes (leaf, link, signature, checkpoint note) for the same events and keys.

Ed25519 signatures are deterministic, so any change in the entry bytes, the chain, the signed
message, the handover message or the note format fails here. A new format is a new version
string and a new golden file; this one must keep verifying.
"""

from __future__ import annotations

from uuid import UUID

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from ledger.checkpoint import Checkpoint, parse_note
from ledger.entry import entry_bytes
from ledger.key_history import HANDOVER_TOPIC
from ledger.merkle import root_from_leaf_hashes
from ledger.verify import verify_ledger
from tests.ledger.attack import EVENTS
from tests.ledger.golden.load import GOLDEN, KEYS, golden_database, golden_keyring, recorder


def stored_event(row: dict) -> StoredEvent:
    return StoredEvent(
        UUID(row["originator_id"]),
        row["originator_version"],
        row["topic"],
        bytes.fromhex(row["state"]),
    )


@pytest.fixture
def golden_url(tmp_path) -> str:
    """The golden rows and checkpoint, copied as they are into a fresh database."""
    return golden_database(tmp_path)[0]


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
