"""Benchmark of the ledger's Merkle tree (ledger.tree) at 10^6 leaves, on SQLite and PostgreSQL.

Prints figures and asserts nothing. It builds its own table of synthetic leaf hashes (a bulk
insert, COPY on PostgreSQL), so it needs no recorder:

    .venv/bin/python bench/merkle.py                       # 10^6 leaves, SQLite and PostgreSQL
    .venv/bin/python bench/merkle.py --leaves 100000 --backend sqlite --pymerkle

PostgreSQL runs in a scratch database created through --postgres-url (an admin URL; default
$HUIYAN_TEST_POSTGRES_URL or the local server) and dropped afterwards. --pymerkle adds the
figures docs/merkle.md quotes for pymerkle 7 over the same leaves.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import merkle  # noqa: E402
from ledger.tree import LedgerTree, SqlLeafSource  # noqa: E402

LEAVES_TABLE = "bench_leaves"
DEFAULT_POSTGRES = os.environ.get(
    "HUIYAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def synthetic_leaf_hashes(start: int, stop: int) -> Iterator[tuple[int, bytes]]:
    for position in range(start, stop):
        yield position, merkle.leaf_hash(position.to_bytes(8, "big"))


def create_leaves(engine: sa.Engine, count: int, start: int = 0) -> float:
    """Bulk-insert leaves [start, start + count); returns seconds taken."""
    table = sa.Table(
        LEAVES_TABLE,
        sa.MetaData(),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    table.create(engine, checkfirst=True)
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {LEAVES_TABLE} (position, leaf_hash) FROM STDIN") as copy:
                for row in synthetic_leaf_hashes(start, start + count):
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {LEAVES_TABLE} (position, leaf_hash) VALUES (?, ?)",
                synthetic_leaf_hashes(start, start + count),
            )
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - began


@contextmanager
def scratch_engine(backend: str, postgres_url: str) -> Iterator[sa.Engine]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = sa.create_engine(f"sqlite:///{folder}/bench.sqlite3")
            yield engine
            engine.dispose()
        return
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"huiyan_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed_ms(call: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = call()
    return (time.perf_counter() - began) * 1000, result


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered):.3f} / {p95:.3f}"


def bench_tree(engine: sa.Engine, leaves: int, probes: int, seed: int) -> dict[str, str]:
    figures: dict[str, str] = {}
    insert_s = create_leaves(engine, leaves)
    figures["bulk insert of leaves (leaves/s)"] = f"{leaves / insert_s:,.0f}"

    tree = LedgerTree(engine, SqlLeafSource(engine, LEAVES_TABLE))
    sync_ms, size = timed_ms(tree.sync)
    figures["initial sync (leaves/s)"] = f"{leaves / (sync_ms / 1000):,.0f}"
    figures["initial sync (s)"] = f"{sync_ms / 1000:.1f}"

    rng = random.Random(seed)
    sizes = [rng.randint(max(1, size // 2), size) for _ in range(probes)]
    roots = {}
    root_ms = []
    for s in sizes:
        elapsed, roots[s] = timed_ms(lambda s=s: tree.root(s))
        root_ms.append(elapsed)
    figures["root(size), ms median / p95"] = summary(root_ms)

    make, check = [], []
    for s in sizes:
        index = rng.randrange(s)
        elapsed, proof = timed_ms(lambda index=index, s=s: tree.inclusion_proof(index, s))
        make.append(elapsed)
        leaf = merkle.leaf_hash(index.to_bytes(8, "big"))
        elapsed, _ = timed_ms(
            lambda index=index, s=s, proof=proof, leaf=leaf: merkle.verify_inclusion(
                leaf, index, s, proof, roots[s]
            )
        )
        check.append(elapsed)
    figures["inclusion proof made, ms median / p95"] = summary(make)
    figures["inclusion proof checked, ms median / p95"] = summary(check)

    make, check = [], []
    for s in sizes:
        old = rng.randint(1, s)
        if old not in roots:
            roots[old] = tree.root(old)
        elapsed, proof = timed_ms(lambda old=old, s=s: tree.consistency_proof(old, s))
        make.append(elapsed)
        elapsed, _ = timed_ms(
            lambda old=old, s=s, proof=proof: merkle.verify_consistency(
                old, s, roots[old], roots[s], proof
            )
        )
        check.append(elapsed)
    figures["consistency proof made, ms median / p95"] = summary(make)
    figures["consistency proof checked, ms median / p95"] = summary(check)

    create_leaves(engine, 1000, start=size)
    elapsed, _ = timed_ms(tree.sync)
    figures["sync of 1,000 more leaves (ms)"] = f"{elapsed:.0f}"
    return figures


def bench_pymerkle(engine: sa.Engine, leaves: int, probes: int, seed: int) -> dict[str, str]:
    """pymerkle 7 with a backend over the same leaf table: what building on it would give."""
    import pymerkle

    source = SqlLeafSource(engine, LEAVES_TABLE)

    class LeafTableTree(pymerkle.BaseMerkleTree):
        """A read-only pymerkle backend over our leaf hashes (pymerkle counts from 1)."""

        def _encode_entry(self, data):
            raise NotImplementedError("the recorder appends leaves, not pymerkle")

        def _store_leaf(self, data, digest):
            raise NotImplementedError("the recorder appends leaves, not pymerkle")

        def _get_leaf(self, index):
            return source.leaf_hashes(index - 1, index)[0]

        def _get_leaves(self, offset, width):
            return source.leaf_hashes(offset, offset + width)

        def _get_size(self):
            return source.count()

    figures: dict[str, str] = {}
    tree = LeafTableTree()
    size = tree.get_size()
    rng = random.Random(seed)
    first_ms, _ = timed_ms(lambda: tree.prove_inclusion(rng.randint(1, size), size))
    figures["pymerkle: first inclusion proof, cold cache (ms)"] = f"{first_ms:,.0f}"
    warm = [
        timed_ms(lambda: tree.prove_inclusion(rng.randint(1, size), size))[0] for _ in range(probes)
    ]
    figures["pymerkle: inclusion proof, warm cache, ms median / p95"] = summary(warm)
    figures["pymerkle: subtree hashes cached in memory"] = f"{len(tree.cache):,}"
    fresh = LeafTableTree()
    first_ms, _ = timed_ms(lambda: fresh.prove_consistency(size // 3, size))
    figures["pymerkle: first consistency proof, cold cache (ms)"] = f"{first_ms:,.0f}"

    in_memory_leaves = min(leaves, 200_000)
    entries = [n.to_bytes(8, "big") for n in range(in_memory_leaves)]
    build_ms, memory_tree = timed_ms(lambda: pymerkle.InmemoryTree.init_from_entries(entries))
    figures[f"pymerkle InmemoryTree: build {in_memory_leaves:,} (s)"] = f"{build_ms / 1000:.1f}"
    proofs = [
        timed_ms(lambda: memory_tree.prove_inclusion(rng.randint(1, in_memory_leaves)))[0]
        for _ in range(probes)
    ]
    figures[f"pymerkle InmemoryTree: proof at {in_memory_leaves:,}, ms median / p95"] = summary(
        proofs
    )
    return figures


def print_table(columns: dict[str, dict[str, str]]) -> None:
    rows = list(dict.fromkeys(row for figures in columns.values() for row in figures))
    width = max(len(row) for row in rows)
    widths = {
        name: max(len(name), *(len(v) for v in figs.values())) for name, figs in columns.items()
    }
    print("  ".join([f"{'':<{width}}", *(f"{name:>{widths[name]}}" for name in columns)]))
    for row in rows:
        cells = [f"{columns[name].get(row, '-'):>{widths[name]}}" for name in columns]
        print("  ".join([f"{row:<{width}}", *cells]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument(
        "--backend", action="append", choices=["sqlite", "postgres"], help="default: both"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--probes", type=int, default=200, help="proofs timed per kind")
    parser.add_argument("--seed", type=int, default=9162)
    parser.add_argument("--pymerkle", action="store_true", help="also time pymerkle 7")
    args = parser.parse_args()

    columns: dict[str, dict[str, str]] = {}
    for backend in args.backend or ["sqlite", "postgres"]:
        with scratch_engine(backend, args.postgres_url) as engine:
            columns[backend] = bench_tree(engine, args.leaves, args.probes, args.seed)
            if args.pymerkle:
                columns[backend] |= bench_pymerkle(engine, args.leaves, args.probes, args.seed)
        print(f"{backend}: done", file=sys.stderr)
    print(f"\nMerkle tree, {args.leaves:,} leaves, {args.probes} probes per kind")
    print_table(columns)


if __name__ == "__main__":
    main()
