"""Writes the golden fixture of this version's registration events (run once per event
version, by hand): ``.venv/bin/python tests/domain/golden/make_golden.py``.

Never regenerate the files of an earlier version: they are the promise that old ledgers
keep replaying. Add a new pair of files for a new event version instead.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from ledger_scenario import Recording, open_registration, settings_for  # noqa: E402

from demo.registration import play_registration  # noqa: E402

FACTS = {"Team": ("status", "disqualified", "language", "name"), "Contest": ("slug",)}


def main() -> None:
    home = Path(tempfile.mkdtemp())
    url = f"sqlite:///{home / 'golden.sqlite3'}"
    app = open_registration(home, url, Recording)
    play_registration(settings_for(home, url), app)
    lines, expected = [], {}
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        lines.append(
            json.dumps(
                {
                    "originator_id": str(notification.originator_id),
                    "originator_version": notification.originator_version,
                    "topic": notification.topic,
                    "state": notification.state.decode(),
                },
                ensure_ascii=False,
            )
        )
    for ident in app.live:
        aggregate = app.repository.get(ident)
        kind = type(aggregate).__name__
        expected[str(ident)] = {
            "type": kind,
            "version": aggregate.version,
            "state": {name: str(getattr(aggregate, name)) for name in FACTS.get(kind, ())},
        }
    (HERE / "registration-v1.jsonl").write_text("\n".join(lines) + "\n")
    (HERE / "registration-v1.expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
