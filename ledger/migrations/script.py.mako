"""${message}

Say why this release needs it, and what it does to each kind of table (ledger/migrations/
tables.py): events only gain columns, evidence never loses rows, a derived table may be
dropped and remade with its tracking position emptied (docs/migrations.md).

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """huiyan goes back by restoring the backup taken before migrating (docs/migrations.md)."""
    raise NotImplementedError("restore the backup taken before migrating")
