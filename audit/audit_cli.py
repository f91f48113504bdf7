"""``huiyan audit ...``: the auditors' and arbitrators' tools (issue 12; docs/audit.md).

This module holds the group only; each tool's commands live beside the code they drive and
are added to the group here, one line each.
"""

from __future__ import annotations

import click


@click.group()
def audit() -> None:
    """Replay, re-score, export and verify the record; witnesses."""
