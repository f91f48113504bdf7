"""Check the whole ledger from its stored rows, trusting nothing but the verifier keys.

For every row: the leaf hash is derived again from the stored columns, the chain link to the
row before is recomputed, and the Ed25519 signature is checked (spread over the cores, each
worker reading its own range of positions). Then the Merkle root over the re-derived leaves is
compared with every signed checkpoint: the ledger's latest and any the caller kept.

A problem is named by the first position it touches and one of these kinds:
``deleted`` (a position is missing), ``inserted`` (a row that was not written in order and
carries no valid signature), ``reordered`` (validly signed rows in an order they were not
written in), ``modified`` (stored content or chain link that its hashes do not match),
``bad signature``, ``unknown key``, ``truncated`` (fewer entries than a checkpoint covers) and
``checkpoint`` (a checkpoint whose root the entries do not reproduce, or that does not verify).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa

from ledger.checkpoint import SignedCheckpoint
from ledger.entry import GENESIS, chain_hash, entry_leaf_hash, signed_message
from ledger.keys import VerifierKey, read_verifier_keys
from ledger.merkle import root_from_leaf_hashes

CHUNK = 4_096  # rows per worker task: amortises a query, and keeps the cores evenly busy
SERIAL_BELOW = 4_000  # under this many rows, starting workers costs more than it saves
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    position: int | None
    kind: str
    detail: str


@dataclass
class Report:
    size: int = 0
    root_hash: str = ""
    checkpoints_checked: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_bad_position(self) -> int | None:
        positions = [p.position for p in self.problems if p.position is not None]
        return min(positions) if positions else None

    def as_json(self) -> dict[str, object]:
        return {
            "intact": self.intact,
            "size": self.size,
            "root_hash": self.root_hash,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad_position": self.first_bad_position,
            "problems": [asdict(p) for p in self.problems],
        }


_ROW_SQL = (
    "SELECT id, position, originator_id, originator_version, topic, state, "
    "leaf_hash, prev_hash, key_id, signature FROM {table} "
    "WHERE position >= :start AND position < :stop ORDER BY position"
)


class Entry(NamedTuple):
    """One stored row, its columns decoded once."""

    id: int
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
        ident, position, originator, version, topic, state, leaf, prev, key_id, signature = row
        if isinstance(originator, bytes | memoryview):  # SQLite keeps a UUID as 16 bytes
            originator = UUID(bytes=bytes(originator))
        elif not isinstance(originator, UUID):
            originator = UUID(str(originator))
        return cls(
            ident,
            position,
            originator,
            version,
            topic,
            bytes(state),
            bytes(leaf),
            bytes(prev),
            key_id,
            bytes(signature),
        )


def check_range(
    url: str, table: str, start: int, stop: int, key_lines: Sequence[str]
) -> tuple[bytes, list[Problem]]:
    """Check rows [start, stop) (plus the row before, for its chain link and order).

    Returns the re-derived leaf hashes of the rows present, concatenated, and the problems.
    Runs in a worker process, so it takes plain values and opens its own connection.
    """
    keys = read_verifier_keys(key_lines)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(_ROW_SQL.format(table=table)),
                {"start": max(start - 1, 0), "stop": stop + 1},
            ).all()
    finally:
        engine.dispose()
    entries = [Entry.of(row) for row in rows]
    before = entries[0] if entries and entries[0].position < start else None
    after = entries[-1] if entries and entries[-1].position >= stop else None
    body = [entry for entry in entries if start <= entry.position < stop]
    return _check_entries(body, before, after, start, keys)


def _check_entries(
    entries: list[Entry],
    before: Entry | None,
    after: Entry | None,
    start: int,
    keys: dict[str, VerifierKey],
) -> tuple[bytes, list[Problem]]:
    replayed = _replayed_copies(entries)
    leaves = bytearray()
    problems: list[Problem] = []
    expected, previous = start, before
    for index, entry in enumerate(entries):
        if entry.position != expected:
            missing = f"positions {expected}..{entry.position - 1} are missing"
            problems.append(Problem(expected, "deleted", missing))
        following = entries[index + 1] if index + 1 < len(entries) else after
        leaf = entry_leaf_hash(
            entry.position, entry.originator_id, entry.originator_version, entry.topic, entry.state
        )
        leaves += leaf
        if entry.id in replayed:
            problem = Problem(entry.position, "inserted", "entry replays another entry's hashes")
        else:
            problem = _check_entry(entry, leaf, previous, following, keys)
        if problem:
            problems.append(problem)
        previous, expected = entry, entry.position + 1
    return bytes(leaves), problems


def _replayed_copies(entries: list[Entry]) -> set[int]:
    """Ids of rows whose stored leaf hash an earlier-written row already has."""
    if len({entry.leaf_hash for entry in entries}) == len(entries):
        return set()
    first_writer: dict[bytes, int] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        first_writer.setdefault(entry.leaf_hash, entry.id)
    return {entry.id for entry in entries if first_writer[entry.leaf_hash] != entry.id}


def _check_entry(
    entry: Entry,
    leaf: bytes,
    previous: Entry | None,
    following: Entry | None,
    keys: dict[str, VerifierKey],
) -> Problem | None:
    key = keys.get(entry.key_id)
    signed = key is not None and key.verify(
        entry.signature, signed_message(entry.leaf_hash, entry.prev_hash)
    )
    out_of_order = (previous is not None and previous.id > entry.id) or (
        following is not None and entry.id > following.id
    )
    position = entry.position
    if out_of_order:
        if signed:
            return Problem(position, "reordered", "entry sits out of the order it was written in")
        return Problem(position, "inserted", "entry was not written in order and is not signed")
    if key is None:
        return Problem(position, "unknown key", f"signed by key {entry.key_id!r}, not a known key")
    if not signed:
        return Problem(
            position, "bad signature", f"signature by key {entry.key_id} does not verify"
        )
    if leaf != entry.leaf_hash:
        return Problem(position, "modified", "stored content does not match its leaf hash")
    if not _linked(entry, previous):
        return Problem(position, "modified", "chain link does not match the entry before")
    return None


def _linked(entry: Entry, previous: Entry | None) -> bool:
    """Whether the entry's chain link matches the entry before it (when that one is here)."""
    if previous is None:
        return entry.position != 0 or entry.prev_hash == GENESIS
    return entry.prev_hash == chain_hash(previous.prev_hash, previous.leaf_hash)


def verify_ledger(
    url: str,
    table: str,
    keys: dict[str, VerifierKey],
    checkpoints: Sequence[SignedCheckpoint],
    workers: int | None = None,
) -> Report:
    """Verify every row, then every checkpoint against the re-derived Merkle tree."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            count, last = conn.execute(
                sa.text(f"SELECT count(*), max(position) FROM {table}")
            ).one()
    finally:
        engine.dispose()
    end = 0 if last is None else last + 1
    key_lines = [key.encode() for key in keys.values()]
    ranges = [(start, min(start + CHUNK, end)) for start in range(0, end, CHUNK)]
    workers = workers or os.cpu_count() or 1
    if count < SERIAL_BELOW or workers == 1:
        results = [check_range(url, table, a, b, key_lines) for a, b in ranges]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(check_range, url, table, a, b, key_lines) for a, b in ranges]
            results = [future.result() for future in futures]
    leaves_blob = b"".join(blob for blob, _ in results)
    leaves = [leaves_blob[i : i + 32] for i in range(0, len(leaves_blob), 32)]
    report = Report(size=len(leaves))
    report.problems = [problem for _, found in results for problem in found][:MAX_PROBLEMS]
    report.root_hash = root_from_leaf_hashes(leaves).hex()
    for signed in checkpoints:
        report.problems += _check_checkpoint(signed, leaves)
        report.checkpoints_checked.append(signed.checkpoint.tree_size)
    return report


def _check_checkpoint(signed: SignedCheckpoint, leaves: list[bytes]) -> list[Problem]:
    size = signed.checkpoint.tree_size
    if size > len(leaves):
        return [
            Problem(
                len(leaves),
                "truncated",
                f"checkpoint covers {size} entries, the ledger holds {len(leaves)}",
            )
        ]
    if root_from_leaf_hashes(leaves[:size]) != signed.checkpoint.root_hash:
        return [
            Problem(
                None,
                "checkpoint",
                f"entries 0..{size - 1} do not reproduce the root of the checkpoint at size {size}",
            )
        ]
    return []
