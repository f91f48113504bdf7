"""Check the whole ledger from its stored rows, trusting nothing but the verifier keys given.

Everything in the database is evidence, never input: a row that does not decode, a checkpoint
row that does not parse, a Merkle cache that lies are findings in the report, not reasons to
stop. Only what the caller gives (the keys, the checkpoints they kept) can be unusable input.

The work is cut into ranges of positions (a power of two each, so a full range is one perfect
Merkle subtree) that worker processes check apart, each opening its own connection:

- every position of the range is present exactly once (a gap is ``deleted``);
- each row's leaf is derived again from its content columns and compared with its signed
  ``leaf_hash``; its signed ``prev_hash`` is compared with the chain hash of the row at the
  position before (read by the same worker, so every link between consecutive positions is
  checked exactly once, whatever the ranges and the number of workers);
- the Ed25519 signature over (leaf hash, previous chain hash) is checked with the key its
  ``key_id`` names, and that key must be the ledger's key at that position (key_history);
- the range's Merkle subtree hashes are computed from the re-derived leaves.

Then the parent names each run of failures by its first row (ledger.diagnose), and checks every
stored and every kept checkpoint against the re-derived tree, and against each other (forks:
ledger.checkpoint_audit). The notification id column is never consulted: it is not signed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import sqlalchemy as sa

from ledger.checkpoint import SignedCheckpoint
from ledger.checkpoint_audit import audit_checkpoints, stored_notes
from ledger.diagnose import Failure, Raw, diagnose
from ledger.entry import GENESIS
from ledger.key_history import KEY_EVENT_TOPICS, KeyEvent, KeyLifecycle, window_fault
from ledger.keys import VerifierKey, read_verifier_keys
from ledger.report import INSERTED, Problem, Report
from ledger.rows import Entry, RowError, first_key, rows_at, rows_with_topics, survey
from ledger.settings import EVENTS_TABLE
from ledger.tree_roots import RangeRoots, range_subtree_hashes

CHUNK = 4_096  # rows per worker task: amortises a query, keeps the cores evenly busy
SERIAL_BELOW = 4_000  # under this many rows, starting workers costs more than it saves

Windows = dict[str, tuple[int, int | None, int | None]]


class VerifyInputError(Exception):
    """The database cannot be read at all: unusable input (exit 2), not evidence."""


@dataclass
class RangeResult:
    start: int
    stop: int
    leaves: bytes  # 32 bytes a position, zero bytes where a position is missing
    failures: list[Failure] = field(default_factory=list)
    subtree_hashes: list[bytes] = field(default_factory=list)  # of perfect_subtrees(start, stop)

    def leaf_list(self) -> list[bytes]:
        return [self.leaves[i : i + 32] for i in range(0, len(self.leaves), 32)]


@dataclass(frozen=True)
class RangeCheck:
    """What a worker needs, as plain values (it runs in another process)."""

    url: str
    table: str
    key_lines: tuple[str, ...]
    windows: Windows
    signatures: bool = True

    def __call__(self, bounds: tuple[int, int]) -> RangeResult:
        start, stop = bounds
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = rows_at(conn, self.table, max(start - 1, 0), stop)
        finally:
            engine.dispose()
        result = check_rows(
            rows,
            start,
            stop,
            read_verifier_keys(self.key_lines),
            self.windows,
            signatures=self.signatures,
        )
        result.subtree_hashes = range_subtree_hashes(start, result.leaf_list())
        return result


def check_rows(
    rows: Sequence[Sequence[object]],
    start: int,
    stop: int,
    keys: dict[str, VerifierKey],
    windows: Windows,
    *,
    signatures: bool = True,
) -> RangeResult:
    """Check rows at positions [start, stop), given with the row at start - 1 when there is
    one (its chain hash is what the row at ``start`` must link to)."""
    by_position: dict[int, list[Entry]] = {}
    failures: list[Failure] = []
    previous: Entry | None = None
    for row in rows:
        position = row[0]
        try:
            entry = Entry.of(row)
        except RowError as error:
            failures.append(Failure(position, Raw.UNDECODABLE, str(error)))
            continue
        if position == start - 1:
            previous = entry
        else:
            by_position.setdefault(position, []).append(entry)
    leaves = bytearray(32 * (stop - start))
    chain = GENESIS if start == 0 else (previous.chain() if previous is not None else None)
    gap_start: int | None = None
    undecodable = {f.position for f in failures}
    for position in range(start, stop):
        candidates = by_position.get(position)
        if not candidates:
            if position not in undecodable and gap_start is None:
                gap_start = position
            chain = None
            continue
        if gap_start is not None:
            failures.append(_gap(gap_start, position - 1))
            gap_start = None
        entry, extra = _pick(candidates, chain, keys)
        failures += [Failure(position, Raw.DUPLICATE, "a second row at this position")] * len(extra)
        leaf = entry.derived_leaf()
        offset = 32 * (position - start)
        leaves[offset : offset + 32] = leaf
        failure = _check_entry(entry, leaf, chain, keys, windows, signatures)
        if failure is not None:
            failures.append(failure)
        chain = entry.chain()
    if gap_start is not None:
        failures.append(_gap(gap_start, stop - 1))
    return RangeResult(start, stop, bytes(leaves), failures)


def _gap(first: int, last: int) -> Failure:
    span = f"position {first} is" if first == last else f"positions {first}..{last} are"
    return Failure(first, Raw.DELETED, span, last=last)


def _pick(
    candidates: list[Entry], chain: bytes | None, keys: dict[str, VerifierKey]
) -> tuple[Entry, list[Entry]]:
    """Of several rows at one position (possible only once the unique index is dropped),
    the one that belongs there; the others are extra."""
    if len(candidates) == 1:
        return candidates[0], []
    for entry in candidates:
        if (
            entry.derived_leaf() == entry.leaf_hash
            and entry.prev_hash == chain
            and entry.signed_by(keys)
        ):
            return entry, [e for e in candidates if e is not entry]
    return candidates[0], candidates[1:]


def _check_entry(
    entry: Entry,
    leaf: bytes,
    chain: bytes | None,
    keys: dict[str, VerifierKey],
    windows: Windows,
    signatures: bool,
) -> Failure | None:
    position = entry.position
    if entry.key_id not in keys:
        return Failure(position, Raw.UNKNOWN_KEY, f"signed by key {entry.key_id!r}", chain)
    if signatures and not entry.signed_by(keys):
        return Failure(position, Raw.BAD_SIGNATURE, f"signature by key {entry.key_id}", chain)
    if leaf != entry.leaf_hash:
        if chain is not None and entry.prev_hash == chain and not _shifted_by_one(entry):
            return Failure(position, Raw.CONTENT, "stored content does not match its leaf hash")
        return Failure(position, Raw.MOVED, "", chain, entry)
    if chain is not None and entry.prev_hash != chain:
        return Failure(position, Raw.LINK, "chain link does not match the entry before", chain)
    fault = window_fault(windows, entry.key_id, position)
    if fault is not None:
        return Failure(position, Raw(fault[0]), fault[1])
    return None


def _shifted_by_one(entry: Entry) -> bool:
    """Whether the entry was signed for the position before or after the one it is at (the
    trace of one row inserted or removed before it, even when its link looks right because
    the row before it replays another row's hashes)."""
    return any(
        entry._replace(position=p).derived_leaf() == entry.leaf_hash
        for p in (entry.position - 1, entry.position + 1)
        if p >= 0
    )


def verify_ledger(
    url: str,
    keys: dict[str, VerifierKey],
    kept: Sequence[SignedCheckpoint] = (),
    *,
    table: str = EVENTS_TABLE,
    workers: int | None = None,
    chunk: int = CHUNK,
    serial_below: int = SERIAL_BELOW,
    signatures: bool = True,
) -> Report:
    """Verify every row, the keys' life cycle, and every stored and kept checkpoint."""
    if chunk < 1 or chunk & (chunk - 1):
        raise ValueError(f"chunk must be a power of two, not {chunk}")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(table):
                raise VerifyInputError(f"no ledger in this database (table {table} does not exist)")
            total, usable, end = survey(conn, table)
            lifecycle = key_lifecycle(conn, table, keys)
            notes = stored_notes(conn, table)
    except sa.exc.SQLAlchemyError as error:
        raise VerifyInputError(_reason(error)) from None
    finally:
        engine.dispose()
    check = RangeCheck(
        url, table, tuple(k.encode() for k in keys.values()), lifecycle.as_plain(), signatures
    )
    ranges = [(start, min(start + chunk, end)) for start in range(0, end, chunk)]
    try:
        results = _run(check, ranges, workers or os.cpu_count() or 1, usable < serial_below)
    except sa.exc.SQLAlchemyError as error:
        raise VerifyInputError(_reason(error)) from None
    report = Report(size=end, signatures_checked=signatures)
    failures = [failure for result in results for failure in result.failures]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            report.add(diagnose(failures, conn, table, keys))
    finally:
        engine.dispose()
    report.add(lifecycle.problems)
    if total != usable:
        report.add(
            [Problem(None, INSERTED, f"{total - usable} rows have no position in 0..{end - 1}")]
        )
    roots = RangeRoots(chunk, results)
    report.root_hash = roots.root(end).hex()
    checked, problems = audit_checkpoints(notes, kept, keys, lifecycle.as_plain(), roots, end)
    report.checkpoints_checked = checked
    report.add(problems)
    return report


def key_lifecycle(conn: sa.Connection, table: str, keys: dict[str, VerifierKey]) -> KeyLifecycle:
    return KeyLifecycle.derive(first_key(conn, table), _key_events(conn, table, keys), keys)


def _key_events(conn: sa.Connection, table: str, keys: dict[str, VerifierKey]) -> list[KeyEvent]:
    """Handovers and revocations from rows that are what they claim: signed by a trusted
    key, content matching the signed leaf at their position."""
    events = []
    for entry in rows_with_topics(conn, table, KEY_EVENT_TOPICS):
        if entry.signed_by(keys) and entry.derived_leaf() == entry.leaf_hash:
            parsed = KeyEvent.parse(entry.position, entry.key_id, entry.topic, entry.state)
            if parsed is not None:
                events.append(parsed)
    return events


def _run(
    check: RangeCheck, ranges: list[tuple[int, int]], workers: int, serial: bool
) -> list[RangeResult]:
    if serial or workers == 1 or len(ranges) < 2:
        return [check(bounds) for bounds in ranges]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(check, ranges))


def _reason(error: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines() or [type(orig).__name__]
    return f"cannot open the ledger database: {lines[-1].strip()}"
