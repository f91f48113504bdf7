"""The whole contest's events of version 1 (registration through scored submissions) must
replay, and the ledger they make must verify, in every later version (write upcasters)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.submissions import Submissions
from ledger.application import open_application
from ledger.ledger import keyring_for
from ledger.settings import Settings
from ledger.verify import verify_ledger

GOLDEN = Path(__file__).parent / "golden"


def test_golden_round_of_version_1_replays_and_verifies(tmp_path, sqlite_url):
    settings = Settings(home=tmp_path, database_url=sqlite_url, environment="test")
    app = open_application(Submissions, settings)
    lines = (GOLDEN / "round-v1.jsonl").read_text().splitlines()
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(line["originator_id"]),
                originator_version=line["originator_version"],
                topic=line["topic"],
                state=line["state"].encode(),
            )
            for line in map(json.loads, lines)
        ]
    )
    expected = json.loads((GOLDEN / "round-v1.expected.json").read_text())
    scored = 0
    for ident, facts in expected.items():
        aggregate = app.repository.get(UUID(ident))
        assert type(aggregate).__name__ == facts["type"]
        assert aggregate.version == facts["version"]
        for name, value in facts["state"].items():
            if name == "primary":
                assert repr(aggregate.score["breakdown"]["primary"]["value"]) == value
                scored += 1
            else:
                assert str(getattr(aggregate, name)) == value, (ident, name)
    assert scored == 3
    keys = keyring_for(settings).verifier_keys()
    report = verify_ledger(sqlite_url, keys)
    assert report.intact and report.size == len(lines)
