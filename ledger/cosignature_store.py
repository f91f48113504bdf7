"""The witnesses' cosignatures a ledger keeps, beside its checkpoints (``<events>_cosignatures``).

Rows are evidence, like the checkpoint rows: a line is only ever used after it has been checked
against the checkpoint's text and a witness key the caller trusts, so a forged or edited row
counts for nothing, and a deleted one loses only what an auditor did not keep.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ledger.checkpoint import SignedCheckpoint, note_parts
from ledger.cosignature import Cosignature, CosignatureCheck, check_cosignatures
from ledger.keys import VerifierKey


def cosignatures_table(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


class CosignatureStore:
    def __init__(self, engine: sa.Engine, table: sa.Table) -> None:
        self.engine = engine
        self.table = table

    def check(self, signed: SignedCheckpoint, keys: dict[str, VerifierKey]) -> CosignatureCheck:
        """The kept lines on ``signed``, checked with ``keys``."""
        return check_cosignatures(note_parts(signed.note)[0], self.lines(signed), keys)

    def lines(self, signed: SignedCheckpoint) -> list[str]:
        """Every kept line on this checkpoint's size and root, unchecked (none when a
        read-only verifier finds no table)."""
        table = self.table
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(table.name):
                return []
            rows = conn.execute(
                sa.select(table.c.line)
                .where(table.c.tree_size == signed.checkpoint.tree_size)
                .where(table.c.root_hash == signed.checkpoint.root_hash)
                .order_by(table.c.id)
            )
            return [line for (line,) in rows if isinstance(line, str)]

    def largest_size(self, key: VerifierKey, limit: int) -> int:
        """The largest size up to ``limit`` this witness cosigned, as far as the kept lines
        tell (0 when none): where the next consistency proof for it starts."""
        table = self.table
        with self.engine.connect() as conn:
            size = conn.execute(
                sa.select(sa.func.max(table.c.tree_size))
                .where(table.c.key_id == key.key_id)
                .where(table.c.tree_size <= limit)
            ).scalar_one()
        return size or 0

    def keep(self, signed: SignedCheckpoint, cosignature: Cosignature, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                self.table.insert().values(
                    tree_size=signed.checkpoint.tree_size,
                    root_hash=signed.checkpoint.root_hash,
                    key_id=cosignature.key.key_id,
                    line=cosignature.line,
                    received_at=now,
                )
            )
