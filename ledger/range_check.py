"""Check one range of positions: the work a verifier's worker process does.

For every position of the range: present exactly once (a gap is a failure), the leaf derived
again from the content columns equals the signed ``leaf_hash``, the signed ``prev_hash``
equals the chain hash of the row at the position before (the worker reads that row too, so
every link between consecutive positions is checked exactly once, however the work is cut),
and the Ed25519 signature over (leaf hash, previous chain hash) verifies with the key its
``key_id`` names. The range also reports which key signed which positions and the key events
it holds, so that the parent checks each key's window once it knows the whole key history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ledger.diagnose import Failure, Raw
from ledger.entry import CHAIN_PREFIX, GENESIS, SIGNATURE_PREFIX
from ledger.key_history import KEY_EVENT_TOPICS, KeyEvent, KeyLifecycle, window_fault
from ledger.keys import VerifierKey, read_verifier_keys
from ledger.report import MAX_PROBLEMS
from ledger.rows import Entry, RowError, leaf_of_row, rows_at
from ledger.tree_roots import range_subtree_hashes

MISSING = bytes(32)  # the leaf put where a position is missing or does not decode


@dataclass
class RangeResult:
    start: int
    stop: int
    leaves: bytes  # 32 bytes a position, zero bytes where a position is missing
    failures: list[Failure] = field(default_factory=list)
    key_runs: list[tuple[int, int, str]] = field(default_factory=list)  # first, last, key id
    key_events: list[KeyEvent] = field(default_factory=list)
    subtree_hashes: list[bytes] = field(default_factory=list)  # of perfect_subtrees(start, stop)

    def leaf_list(self) -> list[bytes]:
        return [self.leaves[i : i + 32] for i in range(0, len(self.leaves), 32)]


@dataclass(frozen=True)
class RangeCheck:
    """What a worker needs, as plain values (it runs in another process)."""

    url: str
    table: str
    key_lines: tuple[str, ...]
    signatures: bool = True

    def __call__(self, bounds: tuple[int, int]) -> RangeResult:
        start, stop = bounds
        with _connection(self.url) as conn:
            rows = rows_at(conn, self.table, max(start - 1, 0), stop, signatures=self.signatures)
        keys = read_verifier_keys(self.key_lines)
        result = check_rows(rows, start, stop, keys, signatures=self.signatures)
        result.subtree_hashes = range_subtree_hashes(start, result.leaf_list())
        return result


_worker_engine: sa.Engine | None = None


def open_worker_engine(url: str) -> None:
    """A worker process's initializer: one engine for all the ranges it checks."""
    global _worker_engine
    _worker_engine = sa.create_engine(url)


@contextmanager
def _connection(url: str) -> Iterator[sa.Connection]:
    if _worker_engine is not None:
        with _worker_engine.connect() as conn:
            yield conn
        return
    engine = sa.create_engine(url)  # in the calling process: nothing cached across calls
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def check_rows(
    rows: Sequence[Sequence[Any]],
    start: int,
    stop: int,
    keys: dict[str, VerifierKey],
    *,
    signatures: bool = True,
) -> RangeResult:
    """Check rows at positions [start, stop), in position order, given with the row at
    start - 1 when there is one (its chain hash is what the row at ``start`` must link to).

    The verifier's hot loop: a row that passes costs two SHA-256, a signature check and a
    few comparisons; only a failing row becomes an ``Entry``.
    """
    result = RangeResult(start, stop, b"")
    failures, runs = result.failures, result.key_runs
    leaves: list[bytes] = []
    chain: bytes | None = GENESIS if start == 0 else None
    index, count, expected = 0, len(rows), start
    if count and rows[0][0] == start - 1:
        try:
            chain = Entry.of(rows[0]).chain()
        except RowError:
            chain = None
        index = 1
    sha256 = hashlib.sha256
    run_key: str | None = None
    run_first = run_last = -2
    while index < count:
        position = rows[index][0]
        following = index + 1
        while following < count and rows[following][0] == position:
            following += 1
        if following - index == 1:
            row = rows[index]
        else:
            row = _pick(rows[index:following], chain, keys, failures)
        index = following
        if position > expected:
            failures.append(gap(expected, position - 1))
            leaves += [MISSING] * (position - expected)
            chain = None
        expected = position + 1
        try:
            leaf = leaf_of_row(row)
        except RowError as error:
            failures.append(Failure(position, Raw.UNDECODABLE, str(error)))
            leaves.append(MISSING)
            chain = None
            continue
        leaves.append(leaf)
        stored_leaf, prev, key_id, signature = row[5], row[6], row[7], row[8]
        key = keys.get(key_id)
        if (
            key is None
            or (signatures and not key.verify(signature, SIGNATURE_PREFIX + stored_leaf + prev))
            or leaf != stored_leaf
            or (prev != chain and chain is not None)
        ):
            failures.append(_name_failure(Entry.of(row), leaf, chain, keys, signatures))
        elif row[3] in KEY_EVENT_TOPICS:
            parsed = KeyEvent.parse(position, key_id, row[3], row[4])
            if parsed is not None:
                result.key_events.append(parsed)
        if key_id != run_key or position != run_last + 1:
            if run_key is not None:
                runs.append((run_first, run_last, run_key))
            run_key, run_first = key_id, position
        run_last = position
        chain = sha256(CHAIN_PREFIX + prev + stored_leaf).digest()
    if run_key is not None:
        runs.append((run_first, run_last, run_key))
    if expected < stop:
        failures.append(gap(expected, stop - 1))
        leaves += [MISSING] * (stop - expected)
    result.leaves = b"".join(leaves)
    return result


def window_failures(results: Sequence[RangeResult], lifecycle: KeyLifecycle) -> list[Failure]:
    """Entries signed by a key outside its window (``retired key``), or by a revoked key
    from its revocation on (``revoked key``); rows that failed otherwise are left out."""
    windows = lifecycle.as_plain()
    found: list[Failure] = []
    for result in results:
        failed = {failure.position for failure in result.failures}
        for first, last, key_id in result.key_runs:
            for position in _outside(windows.get(key_id), first, last):
                if position in failed:
                    continue
                fault = window_fault(windows, key_id, position)
                assert fault is not None
                found.append(Failure(position, Raw(fault[0]), fault[1]))
                if len(found) > MAX_PROBLEMS:
                    return found
    return found


def _outside(window: tuple[int, int | None, int | None] | None, first: int, last: int) -> list[int]:
    """Positions first..last that the window does not cover, in order."""
    if window is None:
        return list(range(first, last + 1))
    opens, closes, revoked_from = window
    cut = min(
        (c for c in (None if closes is None else closes + 1, revoked_from) if c is not None),
        default=last + 1,
    )
    before = range(first, min(last + 1, opens))
    after = range(max(first, cut, min(last + 1, opens)), last + 1)
    return [*before, *after]


def gap(first: int, last: int) -> Failure:
    span = f"position {first} is" if first == last else f"positions {first}..{last} are"
    return Failure(first, Raw.DELETED, span, last=last)


def _pick(
    candidates: Sequence[Sequence[Any]],
    chain: bytes | None,
    keys: dict[str, VerifierKey],
    failures: list[Failure],
) -> Sequence[Any]:
    """Of several rows at one position (possible only once the unique index is dropped),
    the one that belongs there; each other one is a failure."""
    chosen = candidates[0]
    for row in candidates:
        try:
            entry = Entry.of(row)
        except RowError:
            continue
        fits = entry.derived_leaf() == entry.leaf_hash and entry.prev_hash == chain
        if fits and entry.signed_by(keys):
            chosen = row
            break
    extra = len(candidates) - 1
    failures += [Failure(chosen[0], Raw.DUPLICATE, "a second row at this position")] * extra
    return chosen


def _name_failure(
    entry: Entry,
    leaf: bytes,
    chain: bytes | None,
    keys: dict[str, VerifierKey],
    signatures: bool,
) -> Failure:
    position = entry.position
    if entry.key_id not in keys:
        return Failure(position, Raw.UNKNOWN_KEY, f"signed by key {entry.key_id!r}", chain)
    if signatures and not entry.signed_by(keys):
        return Failure(position, Raw.BAD_SIGNATURE, f"signature by key {entry.key_id}", chain)
    if leaf != entry.leaf_hash:
        if chain is not None and entry.prev_hash == chain and not _shifted_by_one(entry):
            return Failure(position, Raw.CONTENT, "stored content does not match its leaf hash")
        return Failure(position, Raw.MOVED, "", chain, entry)
    return Failure(position, Raw.LINK, "chain link does not match the entry before", chain)


def _shifted_by_one(entry: Entry) -> bool:
    """Whether the entry was signed for the position before or after the one it is at (the
    trace of one row inserted or removed before it, even when its link looks right because
    the row before it replays another row's hashes)."""
    return any(
        entry._replace(position=p).derived_leaf() == entry.leaf_hash
        for p in (entry.position - 1, entry.position + 1)
        if p >= 0
    )
