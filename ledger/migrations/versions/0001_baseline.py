"""Baseline: the schema as the release before migrations made it, on SQLite and PostgreSQL.

That release made each table the first time something used it, so one of its databases may
hold any part of this schema. This revision therefore makes only what is missing: every table
that is not there, and every index of a table that is (the events' topic index was added to
old ledgers at start-up). ``ledger.migrations.run`` runs it on such a database only after it
has checked that each table there has exactly the columns below; on an empty database it makes
the whole schema.

Frozen: these definitions are what that release's code declared (tests/ledger/golden/
schema-v1.json is the same schema as reflected from it), copied rather than imported, so that
later changes to the code do not change what this revision makes.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy_utils.types.uuid import UUIDType

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCESS_EVENTS = "access_events"
ACCESS_TRIGGER = f"{ACCESS_EVENTS}_append_only"
# The library's integer: BIGINT, but INTEGER on SQLite (its rowid alias).
_ID = BigInteger().with_variant(Integer(), "sqlite")

metadata = sa.MetaData()


def _events(name: str) -> None:
    """An events table: the library's stored event plus the chain's columns first."""
    Table(
        name,
        metadata,
        Column("position", _ID, nullable=False, unique=True),
        Column("leaf_hash", LargeBinary(32), nullable=False),
        Column("prev_hash", LargeBinary(32), nullable=False),
        Column("key_id", String(16), nullable=False),
        Column("signature", LargeBinary(64), nullable=False),
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("originator_id", UUIDType(), nullable=False),
        Column("originator_version", _ID, nullable=False),
        Column("topic", Text(), nullable=False),
        Column("state", LargeBinary(), nullable=False),
        Index(f"{name}_aggregate_idx", "originator_id", "originator_version", unique=True),
        Index(f"{name}_topic_id", "topic", "id"),
    )


def _stream_side_tables(events: str) -> None:
    """A stream's checkpoints, witnesses' cosignatures and Merkle cache."""
    for kind, text, at in (
        ("checkpoints", "note", "issued_at"),
        ("cosignatures", "line", "received_at"),
    ):
        Table(
            f"{events}_{kind}",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("tree_size", BigInteger, nullable=False),
            Column("root_hash", LargeBinary(32), nullable=False),
            Column("key_id", String(16), nullable=False),
            Column(text, Text, nullable=False),
            Column(at, DateTime(timezone=True), nullable=False),
        )
    Table(
        f"{events}_merkle_nodes",
        metadata,
        Column("node", BigInteger, primary_key=True, autoincrement=False),
        Column("hash", LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    )


def _tracking(name: str) -> None:
    Table(
        name,
        metadata,
        Column("application_name", String(32), primary_key=True),
        Column("notification_id", _ID),
    )


for _stream in ("ledger_events", ACCESS_EVENTS):
    _events(_stream)
    _stream_side_tables(_stream)
for _name in ("listings_tracking", "judging_tracking", "inbox_tracking", "dispatcher_tracking"):
    _tracking(_name)

Table(
    "accesslog_snapshots",
    metadata,
    Column("originator_id", UUIDType(), primary_key=True),
    Column("originator_version", _ID, primary_key=True),
    Column("topic", Text(), nullable=False),
    Column("state", LargeBinary(), nullable=False),
)
Table(
    "rm_teams",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("contest_id", Uuid, nullable=False),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("language", String(16)),
    Column("tracks", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("disqualified", Boolean, nullable=False),
    Index("rm_teams_contest", "contest_id", "seq"),
)
Table(
    "rm_submissions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("team_id", Uuid, nullable=False),
    Column("contest_id", Uuid, nullable=False),
    Column("track", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("submitted_at", String(40), nullable=False),
    Column("metric", Text),
    Column("value", Float),
    Column("gates_passed", Boolean),
    Column("efficiency", Float),
    Index("rm_submissions_team", "team_id", "seq"),
    Index("rm_submissions_track", "contest_id", "track", "status"),
    Index("rm_submissions_status", "status", "seq"),
)
Table(
    "rm_reviews",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("contest_id", Uuid, nullable=False),
    Column("track", Integer, nullable=False),
    Column("team_id", Uuid, nullable=False),
    Column("submission_id", Uuid, nullable=False),
    Column("pseudonym", String(16), nullable=False),
    Column("report", String(16), nullable=False),
    Column("sanitised_sha256", String(64)),
    Column("round", Integer, nullable=False),
    Column("experts", Text, nullable=False),
    Column("assigned", Integer, nullable=False),
    Column("sheets", Text, nullable=False),
    Column("reviewers", Text, nullable=False),
    Index("rm_reviews_track", "contest_id", "track", "seq"),
)
Table(
    "rm_review_experts",
    metadata,
    Column("review_id", Uuid, nullable=False),
    Column("round", Integer, nullable=False),
    Column("expert", Uuid, nullable=False),
    PrimaryKeyConstraint("review_id", "round", "expert"),
    Index("rm_review_experts_expert", "expert", "review_id", "round"),
)
Table(
    "rm_corrections",
    metadata,
    Column("submission_id", Uuid, nullable=False),
    Column("item", String(32), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("submission_id", "item"),
)
Table(
    "rm_appeals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("contest_id", Uuid, nullable=False),
    Column("team_id", Uuid, nullable=False),
    Column("track", Integer, nullable=False),
    Column("item", String(32), nullable=False),
    Column("number", Integer, nullable=False),
    Column("submission_id", Uuid, nullable=False),
    Column("filed_at", String(40), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("waiting", Text),
    Column("arbitrators", Text, nullable=False),
    Column("ruling", Text),
    Column("remedied", Text),
    Index("rm_appeals_contest", "contest_id", "seq"),
    Index("rm_appeals_team", "team_id", "seq"),
)
Table(
    "rm_appeal_arbitrators",
    metadata,
    Column("appeal_id", Uuid, nullable=False),
    Column("arbitrator", Uuid, nullable=False),
    PrimaryKeyConstraint("appeal_id", "arbitrator"),
    Index("rm_appeal_arbitrators_arbitrator", "arbitrator", "appeal_id"),
)
Table(
    "rm_publications",
    metadata,
    Column("results_id", Uuid, nullable=False),
    Column("number", Integer, nullable=False),
    Column("track", Integer, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("freeze_at", String(40), nullable=False),
    Column("rules_version", Integer, nullable=False),
    Column("at", String(40), nullable=False),
    PrimaryKeyConstraint("results_id", "number"),
    Index("rm_publications_track", "results_id", "track", "number"),
)
Table(
    "rm_standings_memo",
    metadata,
    Column("contest_id", Uuid, primary_key=True),
    Column("track", Integer, primary_key=True),
    Column("rules_sha256", String(64), nullable=False),
    Column("listings_position", _ID, nullable=False),
    Column("judging_position", _ID, nullable=False),
    Column("lines", Text, nullable=False),
)
Table(
    "inbox_teams",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("contest_id", Uuid, nullable=False),
    Column("language", String(16)),
    Index("inbox_teams_contest", "contest_id", "seq"),
)
Table(
    "inbox_subjects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("team_id", Uuid),
    Column("contest_id", Uuid),
    Column("track", Integer),
    Column("item", String(32)),
    Index("inbox_subjects_track", "contest_id", "track", "seq"),
)
Table(
    "inbox_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("team_id", Uuid, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("facts", Text, nullable=False),
    Column("at", String(40), nullable=False),
    Index("inbox_messages_team", "team_id", "seq"),
)
Table(
    "inbox_read",
    metadata,
    Column("account_id", Uuid, nullable=False),
    Column("message_id", Uuid, nullable=False),
    Column("at", String(40), nullable=False),
    PrimaryKeyConstraint("account_id", "message_id"),
)
Table(
    "mail_sent",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("at", String(40), nullable=False),
)

# PostgreSQL refuses UPDATE, DELETE and TRUNCATE of the access events (audit/access_log.py).
_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION huiyan_refuse_access_log_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME;
END
$$
"""


def upgrade() -> None:
    """Make what is missing of the baseline schema."""
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    metadata.create_all(bind, checkfirst=True)
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        indexed = {index["name"] for index in sa.inspect(bind).get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:
                index.create(bind)
    if bind.dialect.name == "postgresql":
        _refuse_access_edits(bind)


def _refuse_access_edits(bind: sa.Connection) -> None:
    exists = bind.execute(
        sa.text("SELECT 1 FROM pg_trigger WHERE tgname = :name AND tgrelid = to_regclass(:table)"),
        {"name": ACCESS_TRIGGER, "table": ACCESS_EVENTS},
    ).first()
    if exists:
        return
    bind.execute(sa.text(_REFUSE_FUNCTION))
    bind.execute(
        sa.text(
            f"CREATE TRIGGER {ACCESS_TRIGGER} BEFORE UPDATE OR DELETE OR TRUNCATE ON "
            f"{ACCESS_EVENTS} FOR EACH STATEMENT EXECUTE FUNCTION huiyan_refuse_access_log_edit()"
        )
    )


def downgrade() -> None:
    """huiyan goes back by restoring the backup taken before migrating (docs/migrations.md)."""
    raise NotImplementedError("restore the backup taken before migrating")
