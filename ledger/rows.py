"""Reading the events table as evidence: every column may have been edited with plain SQL.

A row becomes an ``Entry`` only when its columns have the types the recorder writes; anything
else (a NULL, a text position, an originator id that is not a UUID) is a ``RowError``, which a
verifier reports as a problem at that row instead of stopping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa

from ledger.entry import chain_hash, entry_leaf_hash, leaf_of, signed_message
from ledger.keys import VerifierKey

# Positions a verifier reads; a row outside them (negative, NULL, text, absurdly large) is
# counted apart and reported, never silently skipped.
MAX_POSITION = 1 << 48

COLUMNS = (
    "position, originator_id, originator_version, topic, state, "
    "leaf_hash, prev_hash, key_id, signature"
)


class RowError(ValueError):
    """A stored row whose columns are not what the recorder writes."""


def leaf_of_row(row: Sequence[Any]) -> bytes:
    """The leaf hash re-derived from a row's content columns, after checking that every
    column has the type and size the recorder writes; RowError otherwise."""
    position, originator, version, topic, state, leaf, prev, key_id, signature = row
    if originator.__class__ is not bytes:
        originator = getattr(originator, "bytes", originator)  # PostgreSQL gives a UUID
    if not (
        originator.__class__ is bytes
        and state.__class__ is bytes
        and leaf.__class__ is bytes
        and prev.__class__ is bytes
        and topic.__class__ is str
        and key_id.__class__ is str
        and position.__class__ is int
        and version.__class__ is int
        and len(leaf) == 32
        and len(prev) == 32
    ):
        raise RowError("columns of the wrong type or size")
    try:
        return leaf_of(position, originator, version, topic.encode(), state)
    except (ValueError, OverflowError) as error:  # struct.error is a ValueError
        raise RowError(f"columns out of range ({error})") from None


class Entry(NamedTuple):
    """One stored row, its columns checked once (for the paths that look closer at a row)."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    leaf_hash: bytes
    prev_hash: bytes
    key_id: str
    signature: bytes

    @classmethod
    def of(cls, row: Sequence[Any]) -> Entry:
        leaf_of_row(row)
        position, originator, version, topic, state, leaf, prev, key_id, signature = row
        if not isinstance(originator, UUID):
            originator = UUID(bytes=originator)
        return cls(position, originator, version, topic, state, leaf, prev, key_id, signature)

    def derived_leaf(self) -> bytes:
        return entry_leaf_hash(
            self.position, self.originator_id, self.originator_version, self.topic, self.state
        )

    def chain(self) -> bytes:
        """The chain hash this entry hands to the next one (from its signed columns)."""
        return chain_hash(self.prev_hash, self.leaf_hash)

    def signed_by(self, keys: dict[str, VerifierKey]) -> bool:
        key = keys.get(self.key_id)
        return key is not None and key.verify(
            self.signature, signed_message(self.leaf_hash, self.prev_hash)
        )


def survey(conn: sa.Connection, table: str) -> tuple[int, int, int]:
    """(rows in all, rows with a usable position, one past the largest usable position)."""
    total, usable, last = conn.execute(
        sa.text(
            f"SELECT count(*), count(CASE WHEN position >= 0 AND position < {MAX_POSITION} "
            f"THEN 1 END), max(CASE WHEN position >= 0 AND position < {MAX_POSITION} "
            f"THEN position END) FROM {table}"
        )
    ).one()
    return total, usable, 0 if last is None else int(last) + 1


def present_chunks(conn: sa.Connection, table: str, chunk: int) -> list[int]:
    """The indexes of the ranges of ``chunk`` positions that hold at least one row: where a
    ledger has gaps, only these are read (a row planted at position 2^40 must not make a
    verifier walk a trillion empty positions)."""
    result = conn.execute(
        sa.text(
            f"SELECT DISTINCT position / {int(chunk)} FROM {table} "
            f"WHERE position >= 0 AND position < {MAX_POSITION} ORDER BY 1"
        )
    )
    return [int(index) for (index,) in result]


def rows_at(
    conn: sa.Connection, table: str, start: int, stop: int, *, signatures: bool = True
) -> list[Sequence[Any]]:
    """Rows at positions [start, stop) in position order, as the driver's plain tuples (a
    verifier reads every row: SQLAlchemy's row objects would cost more than the hashing).
    Without ``signatures`` the signature column reads as None (a quarter less to fetch)."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    columns = COLUMNS if signatures else COLUMNS.replace("signature", "NULL")
    if not sqlite:  # the UUID's 16 bytes as they are: no uuid.UUID object a row
        columns = columns.replace("originator_id", "uuid_send(originator_id)", 1)
    query = (
        f"SELECT {columns} FROM {table} WHERE position >= {mark} AND position < {mark} "
        "ORDER BY position"
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if sqlite:
            cursor.execute(query, (start, stop))
        else:  # psycopg's binary results: bytea without hex text, half the cost
            cursor.execute(query, (start, stop), binary=True)
        return cursor.fetchall()
    finally:
        cursor.close()


def rows_where(conn: sa.Connection, table: str, column: str, value: Any) -> list[Entry]:
    """Rows whose (signed) ``column`` equals ``value``; rows that do not decode are left out."""
    result = conn.execute(
        sa.text(
            f"SELECT {COLUMNS} FROM {table} WHERE {column} = :value "
            f"AND position >= 0 AND position < {MAX_POSITION} ORDER BY position"
        ),
        {"value": value},
    )
    entries = []
    for row in result:
        try:
            entries.append(Entry.of(row))
        except RowError:
            continue
    return entries


def rows_with_topics(conn: sa.Connection, table: str, topics: Sequence[str]) -> list[Entry]:
    entries = []
    for topic in topics:
        entries += rows_where(conn, table, "topic", topic)
    return sorted(entries, key=lambda e: e.position)


def first_key(conn: sa.Connection, table: str) -> str | None:
    """The key of the lowest-positioned row: the key the ledger started with."""
    value = conn.execute(
        sa.text(
            f"SELECT key_id FROM {table} WHERE position >= 0 AND position < {MAX_POSITION} "
            "ORDER BY position LIMIT 1"
        )
    ).scalar_one_or_none()
    return value if isinstance(value, str) else None
