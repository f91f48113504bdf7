"""Writes the golden fixture of this version's whole-contest events, registration through
scored submissions (run once per event version, by hand):
``.venv/bin/python tests/domain/golden/make_golden_round.py``.

Never regenerate the files of an earlier version: they are the promise that old ledgers keep
replaying. Add a new pair of files for a new event version instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
FACTS = {
    "Team": ("status", "disqualified", "name"),
    "Submission": ("status", "track", "model_ref", "rules_version"),
    "Contest": ("slug",),
}


def main() -> None:
    home = Path(tempfile.mkdtemp())
    os.environ.update(HUIYAN_HOME=str(home), HUIYAN_DATABASE_URL="", HUIYAN_REDIS_URL="")
    from demo.cli import play_round
    from demo.registration import play_registration
    from domain.registration import Registration
    from ledger.application import open_application
    from ledger.settings import Settings

    settings = Settings.from_env()
    registration = open_application(Registration, settings)
    summary = play_registration(settings, registration)
    approved = [t["id"] for t in summary["teams"].values() if t["status"] == "approved"]
    play_round(settings, registration, approved)
    lines, expected = [], {}
    for notification in registration.recorder.select_notifications(start=1, limit=100_000):
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
        aggregate = registration.repository.get(notification.originator_id)
        kind = type(aggregate).__name__
        facts = {name: str(getattr(aggregate, name)) for name in FACTS.get(kind, ())}
        if kind == "Submission" and aggregate.score is not None:
            facts["primary"] = repr(aggregate.score["breakdown"]["primary"]["value"])
        expected[str(aggregate.id)] = {"type": kind, "version": aggregate.version, "state": facts}
    (HERE / "round-v1.jsonl").write_text("\n".join(lines) + "\n")
    (HERE / "round-v1.expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
