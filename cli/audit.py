"""``huiyan audit ...``: the auditors' and arbitrators' tools (issue 12; docs/audit.md).

This module holds the group only; each tool's commands live beside the code they drive and
are added to the group here, one line each.
"""

from __future__ import annotations

import click

from cli import audit_replay as replay_cli
from cli.audit_bundle import export
from cli.audit_witness import witness


@click.group()
def audit() -> None:
    """Replay, re-score, export and verify the record; witnesses."""


# One line per tool's commands.
audit.add_command(replay_cli.audit_timeline)
audit.add_command(replay_cli.audit_state)
audit.add_command(replay_cli.audit_leaderboard)
audit.add_command(replay_cli.audit_rescore)
audit.add_command(replay_cli.audit_rebuild)
audit.add_command(witness)
audit.add_command(export)
