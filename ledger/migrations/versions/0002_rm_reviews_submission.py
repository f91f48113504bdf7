"""rm_reviews: an index on submission_id.

A team's results page finds the review of its entry by the submission's id
(``review_of_submission``), and the standings join the corrections to the reviews on it; without
an index each of those reads scans every review of the contest (8 tracks x 500 teams). A
read-model table: the index is added in place, nothing is rebuilt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("rm_reviews_submission", "rm_reviews", ["submission_id"])


def downgrade() -> None:
    """huiyan goes back by restoring the backup taken before migrating (docs/migrations.md)."""
    raise NotImplementedError("restore the backup taken before migrating")
