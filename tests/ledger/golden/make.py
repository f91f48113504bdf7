"""How tests/ledger/golden/ledger-v1.json was made, once (2026-11-30). Do not run it to "fix"
a failing golden test: that test exists to fail when the byte format changes. A new format
gets a new version string and a new golden file beside this one; the old one stays.

    .venv/bin/python -m tests.ledger.golden.make > tests/ledger/golden/ledger-v1.json

The keys in the file are test vectors, not secrets: they sign nothing but this fixture.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from ledger import rotation
from ledger.entry import entry_bytes
from ledger.ledger import Ledger, keyring_for
from ledger.rows import COLUMNS, Entry
from tests.ledger.history import fill, make_settings

CLOCK = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def pem(key) -> str:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "home", f"sqlite:///{Path(tmp) / 'golden.sqlite3'}")
        settings = dataclasses.replace(settings, origin="golden.huiyan.example/ledger", clock=CLOCK)
        fill(settings, 3)
        first = keyring_for(settings).signing_key()
        _, second = rotation.rotate(settings, operator="golden", reason="golden rotation")
        fill(settings, 2)
        checkpoint = Ledger.from_settings(settings).issue_checkpoint(CLOCK)
        engine = sa.create_engine(settings.database_url)
        with engine.connect() as conn:
            rows = [
                Entry.of(row)
                for row in conn.execute(
                    sa.text(f"SELECT {COLUMNS} FROM ledger_events ORDER BY position")
                )
            ]
        engine.dispose()
        zero = rows[0]
        golden = {
            "format": "huiyan-ledger-entry/v1",
            "origin": settings.origin,
            "private_keys": {first.key_id: pem(first), second.key_id: pem(second)},
            "verifier_keys": [first.verifier.encode(), second.verifier.encode()],
            "entry_bytes_0": entry_bytes(
                zero.position, zero.originator_id, zero.originator_version, zero.topic, zero.state
            ).hex(),
            "rows": [
                {
                    "position": row.position,
                    "originator_id": str(row.originator_id),
                    "originator_version": row.originator_version,
                    "topic": row.topic,
                    "state": row.state.hex(),
                    "leaf_hash": row.leaf_hash.hex(),
                    "prev_hash": row.prev_hash.hex(),
                    "key_id": row.key_id,
                    "signature": row.signature.hex(),
                }
                for row in rows
            ],
            "checkpoint": checkpoint.note,
        }
        print(json.dumps(golden, indent=1))


if __name__ == "__main__":
    main()
