"""A contest on a compose stack, made in a one-off container of the web image (so with the
image's code, user, volumes and database: HUIYAN_DATABASE_URL):

    python3 -m tests.deploy.stack_contest HOME WORK

The 2026 contest, an approved team, track 7's hidden test set and the team's baseline
submission, made through the CLI (tests/flows.py), before any worker runs; prints one JSON
line: the team, the submission and the ledger's verifier keys.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from click.testing import CliRunner

from huiyan_cli import main
from tests.flows import Huiyan, ready_to_submit, submit


def contest(home: Path, database_url: str, work: Path) -> dict[str, object]:
    huiyan = Huiyan(home, database_url)
    team = ready_to_submit(huiyan, work)
    submission = submit(huiyan, team, work)
    keys = CliRunner().invoke(main, ["ledger", "keys"], env=huiyan.env)
    assert keys.exit_code == 0, keys.output
    return {"team": team, "submission": submission, "log_keys": keys.stdout.split()}


if __name__ == "__main__":
    home, work = sys.argv[1:]
    print(json.dumps(contest(Path(home), os.environ["HUIYAN_DATABASE_URL"], Path(work))))
