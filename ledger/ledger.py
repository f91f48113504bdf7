"""The ledger as its operators and auditors see it: size, receipts, checkpoints, proofs.

Applications write through the recorder (ledger.persistence); this class only reads the events
table, keeps the Merkle tree's stored nodes up to date and issues and keeps checkpoints.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ledger.checkpoint import Checkpoint, SignedCheckpoint, parse_note
from ledger.entry import Receipt
from ledger.keys import Keyring, VerifierKey
from ledger.merkle import verify_inclusion
from ledger.persistence import DEFAULT_EVENTS_TABLE
from ledger.settings import Settings
from ledger.tree import LedgerTree, SqlLeafSource


class LedgerError(Exception):
    """An operator asked for something the ledger cannot give; the message says what."""


@dataclass(frozen=True)
class InclusionProof:
    """Everything needed to check offline that an entry is in a signed tree."""

    position: int
    leaf_hash: bytes
    tree_size: int
    path: list[bytes]
    checkpoint_note: str

    def as_json(self) -> dict[str, object]:
        return {
            "position": self.position,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "path": [node.hex() for node in self.path],
            "checkpoint": self.checkpoint_note,
        }


def checkpoints_table(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )


def engine_for(url: str) -> sa.Engine:
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise LedgerError(
            f"cannot use database URL {url.split('://', 1)[0]}://...: {error}"
        ) from None


class Ledger:
    def __init__(
        self,
        engine: sa.Engine,
        keyring: Keyring,
        events_table: str = DEFAULT_EVENTS_TABLE,
        *,
        create: bool = True,
    ) -> None:
        """``create=False`` opens the ledger read-only (for verifiers): no table is made."""
        self.engine = engine
        self.keyring = keyring
        self.events_table = events_table
        metadata = sa.MetaData()
        self._checkpoints = checkpoints_table(metadata, f"{events_table}_checkpoints")
        self._events = sa.Table(
            events_table,
            metadata,
            sa.Column("id", sa.BigInteger),
            sa.Column("position", sa.BigInteger),
            sa.Column("leaf_hash", sa.LargeBinary),
            sa.Column("prev_hash", sa.LargeBinary),
            sa.Column("key_id", sa.String),
            sa.Column("signature", sa.LargeBinary),
        )
        self._require_events_table()
        if create:
            self._checkpoints.create(engine, checkfirst=True)

    @functools.cached_property
    def tree(self) -> LedgerTree:
        return LedgerTree(
            self.engine,
            SqlLeafSource(self.engine, self.events_table),
            f"{self.events_table}_merkle_nodes",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Ledger:
        return cls(engine_for(settings.database_url), keyring_for(settings))

    def _require_events_table(self) -> None:
        try:
            exists = sa.inspect(self.engine).has_table(self.events_table)
        except sa.exc.OperationalError as error:
            reason = str(error.orig).strip().splitlines()[-1]
            raise LedgerError(f"cannot open the ledger database: {reason}") from None
        if not exists:
            raise LedgerError(
                f"no ledger in this database (table {self.events_table} does not exist)"
            )

    def size(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self._events)).scalar_one()

    def receipts(self, notification_ids: list[int]) -> list[Receipt]:
        events = self._events
        query = sa.select(
            events.c.position,
            events.c.id,
            events.c.leaf_hash,
            events.c.prev_hash,
            events.c.key_id,
            events.c.signature,
        ).where(events.c.id.in_(notification_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(events.c.position)).all()
        return [Receipt(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4], bytes(r[5])) for r in rows]

    def leaf_hash(self, position: int) -> bytes:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(self._events.c.leaf_hash).where(self._events.c.position == position)
            ).scalar_one_or_none()
        if value is None:
            raise LedgerError(f"no entry at position {position}")
        return bytes(value)

    def issue_checkpoint(self, now: datetime) -> SignedCheckpoint:
        """Sign the current tree head and keep it; reuse the latest one when nothing changed."""
        key = self.keyring.signing_key()
        size = self.tree.sync()
        latest = self.latest_checkpoint()
        if latest is not None and latest.checkpoint.tree_size == size:
            return latest
        checkpoint = Checkpoint(key.name, size, self.tree.root(size))
        note = checkpoint.sign(key)
        with self.engine.begin() as conn:
            conn.execute(
                self._checkpoints.insert().values(
                    tree_size=size,
                    root_hash=checkpoint.root_hash,
                    key_id=key.key_id,
                    note=note,
                    issued_at=now,
                )
            )
        return SignedCheckpoint(checkpoint, note, key.key_id)

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every checkpoint issued, oldest first, each with its signature checked."""
        keys = self.verifier_keys()
        with self.engine.connect() as conn:
            notes = conn.execute(
                sa.select(self._checkpoints.c.note).order_by(self._checkpoints.c.id)
            ).scalars()
            return [parse_note(note, keys) for note in notes]

    def latest_checkpoint(
        self, keys: dict[str, VerifierKey] | None = None
    ) -> SignedCheckpoint | None:
        """The newest checkpoint, its signature checked with ``keys`` (default: our keyring)."""
        if not sa.inspect(self.engine).has_table(self._checkpoints.name):
            return None
        with self.engine.connect() as conn:
            note = conn.execute(
                sa.select(self._checkpoints.c.note).order_by(self._checkpoints.c.id.desc()).limit(1)
            ).scalar_one_or_none()
        return None if note is None else parse_note(note, keys or self.verifier_keys())

    def verifier_keys(self) -> dict[str, VerifierKey]:
        return self.keyring.verifier_keys()

    def inclusion_proof(self, position: int) -> InclusionProof:
        """Prove an entry against the latest checkpoint (which must already include it)."""
        latest = self.latest_checkpoint()
        if latest is None:
            raise LedgerError("no checkpoint yet: run `huiyan ledger checkpoint` first")
        size = latest.checkpoint.tree_size
        if not 0 <= position < size:
            raise LedgerError(
                f"position {position} is not in the latest checkpoint (tree size {size}); "
                "issue a new checkpoint first"
            )
        self.tree.sync()
        leaf = self.leaf_hash(position)
        path = self.tree.inclusion_proof(position, size)
        verify_inclusion(leaf, position, size, path, latest.checkpoint.root_hash)
        return InclusionProof(position, leaf, size, path, latest.note)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        self.tree.sync()
        return self.tree.consistency_proof(old_size, new_size)


def keyring_for(settings: Settings) -> Keyring:
    return Keyring(settings.keys_dir, settings.origin, settings.key_path)
