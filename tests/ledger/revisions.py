"""Revisions for tests: this release's, taken to a given revision, or followed by a synthetic one
(a bad revision the guard must refuse, a read model remade)."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ledger.migrations import run


def upgrade_to(url: str, revision: str, location: Path = run.LOCATION) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            command.upgrade(run.config(connection, location), revision)
    finally:
        engine.dispose()


SYNTHETIC = "9999"  # a revision after any head this release may have


def location_with(tmp_path: Path, upgrade: str) -> Path:
    """This release's revisions plus one more, ``SYNTHETIC``, after the head, whose upgrade's
    body is ``upgrade`` (indented by four spaces)."""
    location = tmp_path / "migrations"
    shutil.copytree(run.LOCATION, location, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (location / "versions" / f"{SYNTHETIC}_synthetic.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {SYNTHETIC!r}\ndown_revision = {run.scripts().get_current_head()!r}\n"
        "branch_labels = depends_on = None\n\n\n"
        f"def upgrade():\n    {upgrade}\n"
    )
    return location
