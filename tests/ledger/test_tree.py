"""ledger.tree on SQLite and PostgreSQL: the stored tree must answer exactly as ledger.merkle."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.tree import LedgerTree, SqlLeafSource

_table_numbers = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request) -> Iterator[sa.Engine]:
    url = request.getfixturevalue(f"{request.param}_url")
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


class EventsTable:
    """A stand-in for the recorder's events table: gapless positions and RFC 9162 leaf hashes."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.name = f"events_{next(_table_numbers)}"
        self.table = sa.Table(
            self.name,
            sa.MetaData(),
            sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        )
        self.table.create(engine)
        self.entries: list[bytes] = []

    def append(self, entries: list[bytes]) -> None:
        if entries:
            rows = [
                {"position": len(self.entries) + offset, "leaf_hash": merkle.leaf_hash(entry)}
                for offset, entry in enumerate(entries)
            ]
            with self.engine.begin() as conn:
                conn.execute(self.table.insert(), rows)
        self.entries.extend(entries)

    def tree(self, leaves=None, **options) -> LedgerTree:
        source = leaves or SqlLeafSource(self.engine, self.name)
        return LedgerTree(self.engine, source, f"{self.name}_nodes", **options)


def _entries(start: int, count: int) -> list[bytes]:
    return [f"event {n}".encode() for n in range(start, start + count)]


class RecordingSource:
    """A LeafSource that remembers which ranges the tree asked for."""

    def __init__(self, inner: SqlLeafSource) -> None:
        self.inner = inner
        self.asked: list[tuple[int, int]] = []

    def count(self) -> int:
        return self.inner.count()

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        self.asked.append((start, stop))
        return self.inner.leaf_hashes(start, stop)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(st.integers(0, 40), min_size=1, max_size=4),
    batch_size=st.integers(1, 9),
    data=st.data(),
)
def test_stored_tree_answers_exactly_as_the_pure_functions(engine, batches, batch_size, data):
    events = EventsTable(engine)
    tree = events.tree(batch_size=batch_size)
    for count in batches:
        events.append(_entries(len(events.entries), count))
        assert tree.sync() == len(events.entries) == tree.size
    entries = events.entries
    for size in range(len(entries) + 1):
        assert tree.root(size) == merkle.root_hash(entries[:size])
    assert tree.root() == merkle.root_hash(entries)
    if not entries:
        return
    for _ in range(8):
        size = data.draw(st.integers(1, len(entries)))
        index = data.draw(st.integers(0, size - 1))
        assert tree.inclusion_proof(index, size) == merkle.inclusion_proof(entries[:size], index)
        old = data.draw(st.integers(1, size))
        assert tree.consistency_proof(old, size) == merkle.consistency_proof(entries[:size], old)


def test_sync_reads_only_the_leaves_after_the_frontier(engine):
    events = EventsTable(engine)
    source = RecordingSource(SqlLeafSource(engine, events.name))
    tree = events.tree(source, batch_size=4)
    events.append(_entries(0, 10))
    assert tree.sync() == 10
    assert source.asked == [(0, 4), (4, 8), (8, 10)]

    source.asked.clear()
    events.append(_entries(10, 7))
    assert tree.sync() == 17
    assert source.asked == [(10, 14), (14, 17)]

    source.asked.clear()
    assert tree.sync() == 17
    assert source.asked == []
    assert tree.root() == merkle.root_hash(events.entries)


@pytest.mark.parametrize("workers", [2, 3])
def test_concurrent_syncs_leave_a_correct_tree(engine, workers):
    events = EventsTable(engine)
    events.append(_entries(0, 300))
    trees = [events.tree(batch_size=16) for _ in range(workers)]
    start = threading.Barrier(workers)
    results: list[int | BaseException] = []

    def run(tree: LedgerTree) -> None:
        start.wait()
        try:
            results.append(tree.sync())
        except BaseException as error:  # reported below, with the thread's result
            results.append(error)

    threads = [threading.Thread(target=run, args=(tree,)) for tree in trees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [300] * workers
    tree = trees[0]
    assert tree.root() == merkle.root_hash(events.entries)
    for size in (1, 17, 128, 299, 300):
        assert tree.root(size) == merkle.root_hash(events.entries[:size])
        assert tree.inclusion_proof(size - 1, size) == merkle.inclusion_proof(
            events.entries[:size], size - 1
        )
    assert tree.consistency_proof(17, 300) == merkle.consistency_proof(events.entries, 17)


def test_a_new_tree_object_reads_what_an_earlier_one_stored(engine):
    events = EventsTable(engine)
    events.append(_entries(0, 21))
    events.tree().sync()
    again = events.tree()
    assert again.size == 21
    assert again.root(13) == merkle.root_hash(events.entries[:13])


def test_out_of_range_arguments_are_refused_clearly(engine):
    events = EventsTable(engine)
    events.append(_entries(0, 10))
    tree = events.tree()
    tree.sync()
    events.append(_entries(10, 1))  # stored, not yet integrated
    cases = [
        (lambda: tree.root(11), "tree size 11 is beyond the integrated size 10"),
        (lambda: tree.root(-1), "tree size -1 is negative"),
        (lambda: tree.inclusion_proof(10, 11), "tree size 11 is beyond the integrated size 10"),
        (lambda: tree.inclusion_proof(10, 10), "leaf index 10 is not in a tree of size 10"),
        (lambda: tree.inclusion_proof(-1, 10), "leaf index -1 is not in a tree of size 10"),
        (lambda: tree.consistency_proof(0, 10), "no consistency proof from tree size 0"),
        (lambda: tree.consistency_proof(6, 5), "old tree size 6 is larger than new tree size 5"),
        (lambda: tree.consistency_proof(11, 11), "tree size 11 is beyond the integrated size"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    assert tree.root(0) == merkle.EMPTY_ROOT


def test_a_leaf_hash_of_the_wrong_length_stops_sync_and_writes_nothing_of_its_batch(engine):
    events = EventsTable(engine)
    events.append(_entries(0, 5))
    with engine.begin() as conn:
        conn.execute(events.table.insert(), [{"position": 5, "leaf_hash": b"short"}])
    tree = events.tree(batch_size=4)
    with pytest.raises(ValueError, match="leaf hash at position 5 is 5 bytes, not 32"):
        tree.sync()
    assert tree.size == 4
    assert tree.root(4) == merkle.root_hash(events.entries[:4])


def test_a_gap_in_positions_is_reported(engine):
    events = EventsTable(engine)
    events.append(_entries(0, 3))
    with engine.begin() as conn:
        conn.execute(
            events.table.insert(), [{"position": 4, "leaf_hash": merkle.leaf_hash(b"late")}]
        )
    with pytest.raises(
        ValueError, match=r"has 4 leaves at positions \[0, 5\), not 5: positions must be gapless"
    ):
        events.tree().sync()
