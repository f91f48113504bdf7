"""rm_run_durations and its position run_durations_tracking: the read model of run durations
the monitoring's histograms are made of (services/run_durations.py, docs/operations.md).

A derived table, new in this release: it is made empty, with its position at the start, and
the dispatcher's next round fills it from the log.

Frozen: the definitions are copied from the code of this release, not imported.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The library's integer: BIGINT, but INTEGER on SQLite (its rowid alias).
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rm_run_durations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("track", sa.Integer, nullable=False),
        sa.Column("inference_seconds", sa.Float),
        sa.Column("inferred_at", sa.Float),
        sa.Column("scoring_seconds", sa.Float),
    )
    op.create_table(
        "run_durations_tracking",
        sa.Column("application_name", sa.String(32), primary_key=True),
        sa.Column("notification_id", _ID),
    )


def downgrade() -> None:
    """huiyan goes back by restoring the backup taken before migrating (docs/migrations.md)."""
    raise NotImplementedError("restore the backup taken before migrating")
