"""Check the whole ledger from its stored rows, trusting nothing but the verifier keys given.

Everything in the database is evidence, never input: a row that does not decode, a checkpoint
row that does not parse, a Merkle cache that lies are findings in the report, not reasons to
stop. Only what the caller gives (the keys, the checkpoints they kept) can be unusable input.

The positions are cut into aligned ranges (a power of two wide, so a full range is one perfect
Merkle subtree) that worker processes check apart (ledger.range_check). The parent then:

- derives each key's window of positions from the handovers and revocations the ranges found,
  and flags entries signed outside their key's window (ledger.key_history);
- names each run of failures by its first row (ledger.diagnose);
- checks every stored and every kept checkpoint against the re-derived tree, and against each
  other for forks (ledger.checkpoint_audit).

The notification id column is never consulted: it is not signed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

import sqlalchemy as sa

from ledger.checkpoint import SignedCheckpoint
from ledger.checkpoint_audit import audit_checkpoints, stored_notes
from ledger.diagnose import Failure, Raw, diagnose
from ledger.key_history import KEY_EVENT_TOPICS, KeyEvent, KeyLifecycle
from ledger.keys import VerifierKey
from ledger.range_check import (
    RangeCheck,
    RangeResult,
    gap,
    open_worker_engine,
    window_failures,
)
from ledger.report import INSERTED, Problem, Report
from ledger.rows import first_key, present_chunks, rows_with_topics, survey
from ledger.settings import EVENTS_TABLE
from ledger.tree_roots import RangeRoots

# Rows per worker task: enough to amortise a query, few enough that the last task does not
# leave a core idle for long (a signed range of 1,024 rows takes ~0.1 s here).
CHUNK = 1_024
CHUNK_WITHOUT_SIGNATURES = 4_096
SERIAL_BELOW = 4_000  # under this many rows, starting workers costs more than it saves


class VerifyInputError(Exception):
    """The database cannot be read at all: unusable input (exit 2), not evidence."""


def verify_ledger(
    url: str,
    keys: dict[str, VerifierKey],
    kept: Sequence[SignedCheckpoint] = (),
    *,
    table: str = EVENTS_TABLE,
    workers: int | None = None,
    chunk: int | None = None,
    serial_below: int = SERIAL_BELOW,
    signatures: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Verify every row, the keys' life cycle, and every stored and kept checkpoint.

    ``progress``, when given, is called with (positions checked so far, ledger size): once
    before the first range and again as each range completes, the last call with the size.
    """
    chunk = chunk or (CHUNK if signatures else CHUNK_WITHOUT_SIGNATURES)
    if chunk < 1 or chunk & (chunk - 1):
        raise ValueError(f"chunk must be a power of two, not {chunk}")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(table):
                raise VerifyInputError(f"no ledger in this database (table {table} does not exist)")
            total, usable, end = survey(conn, table)
            chunks = present_chunks(conn, table, chunk) if end != usable else None
            notes = stored_notes(conn, table)
    except sa.exc.SQLAlchemyError as error:
        raise VerifyInputError(_reason(error)) from None
    finally:
        engine.dispose()
    check = RangeCheck(url, table, tuple(k.encode() for k in keys.values()), signatures)
    if chunks is None:  # gapless: every range holds rows
        chunks = list(range(-(-end // chunk)))
    ranges = [(c * chunk, min((c + 1) * chunk, end)) for c in chunks]
    try:
        results = _run(
            check, ranges, workers or os.cpu_count() or 1, usable < serial_below, progress, end
        )
    except sa.exc.SQLAlchemyError as error:
        raise VerifyInputError(_reason(error)) from None
    lifecycle = KeyLifecycle.derive(
        next((r.key_runs[0][2] for r in results if r.key_runs), None),
        [event for result in results for event in result.key_events],
        keys,
    )
    failures = [f for result in results for f in result.failures]
    failures += window_failures(results, lifecycle)
    failures += _empty_ranges(chunks, chunk)
    report = Report(size=end, signatures_checked=signatures)
    if failures:
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
    missing = [f.position for f in failures if f.raw is Raw.DELETED]
    roots = RangeRoots(chunk, results, min(missing, default=end))
    report.root_hash = roots.root(end).hex() if roots.covers(end) else ""
    checked, problems = audit_checkpoints(notes, kept, keys, lifecycle.as_plain(), roots, end)
    report.checkpoints_checked = checked
    report.add(problems)
    return report


def key_lifecycle(conn: sa.Connection, table: str, keys: dict[str, VerifierKey]) -> KeyLifecycle:
    """The key history read straight from the rows that hold it (for the checkpoint signer,
    which checks only the entries appended since the last checkpoint): handovers and
    revocations from rows that are what they claim, signed by a trusted key, content
    matching the signed leaf at their position."""
    events = []
    for entry in rows_with_topics(conn, table, KEY_EVENT_TOPICS):
        if entry.signed_by(keys) and entry.derived_leaf() == entry.leaf_hash:
            parsed = KeyEvent.parse(entry.position, entry.key_id, entry.topic, entry.state)
            if parsed is not None:
                events.append(parsed)
    return KeyLifecycle.derive(first_key(conn, table), events, keys)


def _empty_ranges(chunks: list[int], chunk: int) -> list[Failure]:
    """Gaps wide enough to hold no row in a whole range: found without reading them."""
    found, expected = [], 0
    for index in chunks:
        if index > expected:
            found.append(gap(expected * chunk, index * chunk - 1))
        expected = index + 1
    return found


def _run(
    check: RangeCheck,
    ranges: list[tuple[int, int]],
    workers: int,
    serial: bool,
    progress: Callable[[int, int], None] | None = None,
    end: int = 0,
) -> list[RangeResult]:
    if progress is not None:
        progress(0, end)
    if serial or workers == 1 or len(ranges) < 2:
        return _collect(map(check, ranges), ranges, progress, end)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=open_worker_engine,
        initargs=(check.url,),
    ) as pool:
        return _collect(pool.map(check, ranges), ranges, progress, end)


def _collect(
    results: Iterable[RangeResult],
    ranges: list[tuple[int, int]],
    progress: Callable[[int, int], None] | None,
    end: int,
) -> list[RangeResult]:
    """The results in range order, reporting each range's end as it completes: ranges are in
    position order, pool.map yields in that order, and the last range ends at the size."""
    collected = []
    for result, (_, stop) in zip(results, ranges, strict=True):
        collected.append(result)
        if progress is not None:
            progress(stop, end)
    return collected


def _reason(error: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines() or [type(orig).__name__]
    return f"cannot open the ledger database: {lines[-1].strip()}"
