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


def _as_uuid(value: object) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, bytes | memoryview):
        return UUID(bytes=bytes(value))
    return UUID(str(value))


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
    before = rows[0] if rows and rows[0].position < start else None
    after = rows[-1] if rows and rows[-1].position >= stop else None
    body = [r for r in rows if start <= r.position < stop]
    return _check_rows(body, before, after, start, keys)


def _check_rows(rows, before, after, start, keys) -> tuple[bytes, list[Problem]]:
    # A row whose stored leaf hash another, earlier-written row already has is a replayed copy.
    first_writer: dict[bytes, int] = {}
    for row in sorted(rows, key=lambda r: r.id):
        first_writer.setdefault(bytes(row.leaf_hash), row.id)
    leaves = bytearray()
    problems: list[Problem] = []
    expected = start
    previous = before
    for index, row in enumerate(rows):
        if row.position != expected:
            problems.append(
                Problem(
                    expected, "deleted", f"positions {expected}..{row.position - 1} are missing"
                )
            )
        following = rows[index + 1] if index + 1 < len(rows) else after
        leaf = entry_leaf_hash(
            row.position,
            _as_uuid(row.originator_id),
            row.originator_version,
            row.topic,
            bytes(row.state),
        )
        leaves += leaf
        if first_writer[bytes(row.leaf_hash)] != row.id:
            problem = Problem(row.position, "inserted", "entry replays another entry's hashes")
        else:
            problem = _check_row(row, leaf, previous, following, keys)
        if problem:
            problems.append(problem)
        previous = row
        expected = row.position + 1
    return bytes(leaves), problems


def _check_row(row, leaf: bytes, previous, following, keys) -> Problem | None:
    stored_leaf, stored_prev = bytes(row.leaf_hash), bytes(row.prev_hash)
    key: VerifierKey | None = keys.get(row.key_id)
    signed = key is not None and key.verify(
        bytes(row.signature), signed_message(stored_leaf, stored_prev)
    )
    out_of_order = (previous is not None and previous.id > row.id) or (
        following is not None and row.id > following.id
    )
    position = row.position
    if out_of_order:
        if signed:
            return Problem(position, "reordered", "entry sits out of the order it was written in")
        return Problem(position, "inserted", "entry was not written in order and is not signed")
    if key is None:
        return Problem(position, "unknown key", f"signed by key {row.key_id!r}, not a known key")
    if not signed:
        return Problem(position, "bad signature", f"signature by key {row.key_id} does not verify")
    if leaf != stored_leaf:
        return Problem(position, "modified", "stored content does not match its leaf hash")
    expected_prev = (
        GENESIS
        if previous is None and position == 0
        else chain_hash(bytes(previous.prev_hash), bytes(previous.leaf_hash))
        if previous is not None
        else None
    )
    if expected_prev is not None and stored_prev != expected_prev:
        return Problem(position, "modified", "chain link does not match the entry before")
    return None


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
