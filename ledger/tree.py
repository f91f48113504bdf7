"""The ledger's Merkle tree, kept in the database so proofs at 10^6 leaves stay cheap.

The events table owns the leaves (``position``, ``leaf_hash``); this module copies each leaf
hash and stores every complete subtree hash in its own table, keyed by one integer
``node = level << 48 | index`` (see ``ledger.merkle.NodeId``; 2^48 leaves is the limit). A
single key keeps the one query per proof a plain ``node IN (...)`` on the primary key, which
both databases answer by index lookups (SQLite scans the table for a two-column row-value IN).
A proof or root is then the hashes of O(log n) stored nodes, never a walk over the leaves.

Nodes are immutable functions of the leaves, so integrating twice, or from two processes at
once, writes the same rows: inserts ignore rows already there, and on PostgreSQL an advisory
lock keeps two writers from doing the same work. Storing the leaf hashes again (level 0) costs
space but lets one query answer every proof, and lets the table say by itself how far it is
integrated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Protocol

import sqlalchemy as sa

from ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    NodeId,
    Range,
    consistency_ranges,
    inclusion_ranges,
    perfect_subtrees,
    subtree_root,
)
from ledger.tables import create_missing


class LeafSource(Protocol):
    def count(self) -> int:
        """Number of leaves stored (positions 0 .. count - 1)."""
        ...

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        """Leaf hashes at positions [start, stop), in order."""
        ...


class SqlLeafSource:
    """Leaves in any table with a gapless ``position`` and a 32-byte ``leaf_hash`` column."""

    def __init__(self, engine: sa.Engine, table_name: str) -> None:
        self._engine = engine
        self._table = sa.table(table_name, sa.column("position"), sa.column("leaf_hash"))

    def count(self) -> int:
        # MAX reads one end of the position index; COUNT(*) would scan the table on PostgreSQL.
        with self._engine.connect() as conn:
            last = conn.scalar(sa.select(sa.func.max(self._table.c.position)))
        return 0 if last is None else last + 1

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        position, leaf_hash = self._table.c.position, self._table.c.leaf_hash
        query = (
            sa.select(position, leaf_hash)
            .where(position >= start, position < stop)
            .order_by(position)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        if len(rows) != stop - start:  # positions are unique, so this is the gap check
            raise ValueError(
                f"{self._table.name} has {len(rows)} leaves at positions [{start}, {stop}), "
                f"not {stop - start}: positions must be gapless"
            )
        return [bytes(row[1]) for row in rows]


_LEVEL_SHIFT = 48
MAX_LEAVES = 1 << _LEVEL_SHIFT


def _node_key(level: int, index: int) -> int:
    return level << _LEVEL_SHIFT | index


StoreNodes = Callable[[sa.Connection, list[tuple[int, bytes]]], None]


def _postgresql_store(table: str) -> StoreNodes:
    # One statement a batch, the arrays unnested by the server: an executemany would send
    # one INSERT a node, which made the initial integration ten times slower.
    insert = sa.text(
        f"INSERT INTO {table} (node, hash) "
        "SELECT * FROM unnest(CAST(:nodes AS BIGINT[]), CAST(:hashes AS BYTEA[])) "
        "ON CONFLICT DO NOTHING"
    )

    def store(conn: sa.Connection, rows: list[tuple[int, bytes]]) -> None:
        conn.execute(insert, {"nodes": [n for n, _ in rows], "hashes": [h for _, h in rows]})

    return store


def _sqlite_store(table: str) -> StoreNodes:
    # The driver's own executemany: SQLAlchemy's per-row parameter handling cost more than
    # SQLite's insert.
    insert = f"INSERT INTO {table} (node, hash) VALUES (?, ?) ON CONFLICT DO NOTHING"

    def store(conn: sa.Connection, rows: list[tuple[int, bytes]]) -> None:
        conn.exec_driver_sql(insert, rows)

    return store


_STORES = {"postgresql": _postgresql_store, "sqlite": _sqlite_store}


class LedgerTree:
    """An RFC 9162 tree over a LeafSource whose proofs equal ``ledger.merkle``'s exactly."""

    def __init__(
        self,
        engine: sa.Engine,
        leaves: LeafSource,
        nodes_table: str = "huiyan_merkle_nodes",
        *,
        batch_size: int = 16_384,
    ) -> None:
        if engine.dialect.name not in _STORES:
            raise ValueError(
                f"LedgerTree supports PostgreSQL and SQLite, not {engine.dialect.name}"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._engine, self._leaves, self._batch_size = engine, leaves, batch_size
        self._nodes = sa.Table(
            nodes_table,
            sa.MetaData(),
            sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("hash", sa.LargeBinary(HASH_SIZE), nullable=False),
            sqlite_with_rowid=False,  # stored in key order: half the size, one lookup a node
        )
        node, digest = self._nodes.c.node, self._nodes.c.hash
        quoted_name = engine.dialect.identifier_preparer.format_table(self._nodes)
        self._store = _STORES[engine.dialect.name](quoted_name)
        self._select_nodes = sa.select(node, digest).where(
            node.in_(sa.bindparam("nodes", expanding=True))
        )
        self._select_last_leaf = sa.select(sa.func.max(node)).where(node < MAX_LEAVES)
        # Lock key per table, so two trees in one database do not wait for each other.
        self._lock_key = int.from_bytes(
            hashlib.sha256(nodes_table.encode()).digest()[:8], "big", signed=True
        )
        create_missing(self._engine, [self._nodes])

    @property
    def table_name(self) -> str:
        return self._nodes.name

    def clear(self) -> None:
        """Forget every stored node (the cache is rebuilt from the leaves by ``sync``)."""
        with self._engine.begin() as conn:
            conn.execute(self._nodes.delete())

    def frontier(self, size: int) -> Frontier:
        """The stored roots of the perfect subtrees of the first ``size`` leaves."""
        node_ids = perfect_subtrees(0, size)
        with self._engine.connect() as conn:
            stored = self._fetch(conn, node_ids)
        missing = [node for node in node_ids if node not in stored]
        if missing:
            raise ValueError(f"tree size {size} is beyond what {self.table_name} holds")
        return Frontier(size, [stored[node] for node in node_ids])

    @property
    def size(self) -> int:
        with self._engine.connect() as conn:
            return self._integrated_size(conn)

    def _integrated_size(self, conn: sa.Connection) -> int:
        # A batch's leaves and the nodes they complete commit together, so the last leaf
        # stored vouches for every node below it.
        last = conn.scalar(self._select_last_leaf)
        return 0 if last is None else last + 1

    def sync(self) -> int:
        """Integrate the leaves stored beyond the frontier, a batch per transaction."""
        target = self._leaves.count()
        if target > MAX_LEAVES:
            raise ValueError(f"{target} leaves is more than this tree holds ({MAX_LEAVES})")
        while True:
            with self._engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(self._lock_key)))
                size = self._integrated_size(conn)
                if size >= target:
                    return size
                frontier_ids = perfect_subtrees(0, size)
                stored = self._fetch(conn, frontier_ids)
                frontier = Frontier(size, [stored[node] for node in frontier_ids])
                stop = min(target, size + self._batch_size)
                rows = []
                for position, leaf in enumerate(self._leaves.leaf_hashes(size, stop), size):
                    if len(leaf) != HASH_SIZE:
                        raise ValueError(
                            f"leaf hash at position {position} is {len(leaf)} bytes, "
                            f"not {HASH_SIZE}"
                        )
                    rows.extend(
                        (_node_key(level, index), digest)
                        for level, index, digest in frontier.append(leaf)
                    )
                self._store(conn, rows)

    def root(self, size: int | None = None) -> bytes:
        if size is None:
            size = self.size
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        if size == 0:
            return EMPTY_ROOT
        return self._range_hashes([(0, size)], size)[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._range_hashes(inclusion_ranges(index, size), size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self._range_hashes(consistency_ranges(old_size, new_size), new_size)

    def _range_hashes(self, ranges: list[Range], size: int) -> list[bytes]:
        """The hash of each range, from one query over the stored nodes."""
        parts = [perfect_subtrees(start, stop) for start, stop in ranges]
        # The last leaf is asked for as well: its presence proves the tree reaches ``size``,
        # which a proof's own nodes do not always cover (a leaf's path leaves out the leaf).
        witness = (0, size - 1)
        with self._engine.connect() as conn:
            stored = self._fetch(conn, [witness, *(node for part in parts for node in part)])
            if witness not in stored:
                integrated = self._integrated_size(conn)
                raise ValueError(
                    f"tree size {size} is beyond the integrated size {integrated}; sync() first"
                )
        return [subtree_root([stored[node] for node in part]) for part in parts]

    def _fetch(self, conn: sa.Connection, node_ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        keys = {_node_key(level, index): (level, index) for level, index in node_ids}
        if not keys:
            return {}
        rows = conn.execute(self._select_nodes, {"nodes": list(keys)})
        return {keys[node]: bytes(digest) for node, digest in rows}
