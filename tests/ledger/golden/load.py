"""The golden ledger (ledger-v1.json) as tests use it: its keys, and its rows and checkpoint
copied as they are into a fresh database (for today's verify, and for the audit bundle's
standalone verifier)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from ledger.checkpoint import parse_note
from ledger.keys import Keyring, SigningKey, read_verifier_keys
from ledger.ledger import Ledger
from ledger.persistence import ChainingApplicationRecorder, LedgerDatastore
from tests.ledger.attack import EVENTS

GOLDEN = json.loads((Path(__file__).parent / "ledger-v1.json").read_text())
KEYS = read_verifier_keys(GOLDEN["verifier_keys"])


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


def golden_database(folder: Path, url: str | None = None) -> tuple[str, Keyring]:
    """The golden rows and checkpoint in a new database (``url``, an empty one; else SQLite
    under ``folder``) as the release that signed them made it; its URL and a keyring holding
    the golden keys (``folder/keys``)."""
    url = url or f"sqlite:///{folder / 'golden.sqlite3'}"
    keyring, _ = golden_keyring(folder / "keys")
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
    return url, keyring
