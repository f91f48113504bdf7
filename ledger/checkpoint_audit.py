"""Every checkpoint, stored or kept, against the re-derived tree and against each other.

A stored checkpoint row is evidence like any other row: one that does not parse or whose
signature does not verify is a ``checkpoint`` problem, never a reason to stop. Two validly
signed checkpoints that cannot both be prefixes of one history are a ``fork``: proof that the
log's key signed two histories (same size and different roots, or a smaller one that is not a
prefix of a larger one the entries reproduce). The report carries both signed notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from ledger.checkpoint import CheckpointError, SignedCheckpoint, parse_note
from ledger.key_history import window_fault
from ledger.keys import VerifierKey
from ledger.report import CHECKPOINT, FORK, TRUNCATED, Problem


class Roots(Protocol):
    def covers(self, size: int) -> bool: ...

    def root(self, size: int) -> bytes: ...


@dataclass(frozen=True)
class Candidate:
    label: str
    signed: SignedCheckpoint

    @property
    def size(self) -> int:
        return self.signed.checkpoint.tree_size

    @property
    def root(self) -> bytes:
        return self.signed.checkpoint.root_hash


def checkpoints_table_name(events_table: str) -> str:
    return f"{events_table}_checkpoints"


def stored_notes(conn: sa.Connection, events_table: str) -> list[tuple[object, object]]:
    """(row id, note) of every stored checkpoint, oldest first; none when there is no table."""
    table = checkpoints_table_name(events_table)
    if not sa.inspect(conn).has_table(table):
        return []
    rows = conn.execute(sa.text(f"SELECT id, note FROM {table} ORDER BY id"))
    return [tuple(row) for row in rows]


def audit_checkpoints(
    notes: Sequence[tuple[object, object]],
    kept: Sequence[SignedCheckpoint],
    keys: dict[str, VerifierKey],
    windows: dict[str, tuple[int, int | None, int | None]],
    roots: Roots,
    size: int,
) -> tuple[list[int], list[Problem]]:
    """(sizes checked, problems)."""
    problems: list[Problem] = []
    candidates: list[Candidate] = []
    for ident, note in notes:
        label = f"stored checkpoint (row {ident})"
        try:
            if not isinstance(note, str):
                raise CheckpointError("the note is not text")
            candidates.append(Candidate(label, parse_note(note, keys)))
        except CheckpointError as error:
            problems.append(Problem(None, CHECKPOINT, f"{label}: {error}"))
    candidates += [Candidate(f"kept checkpoint {n + 1}", s) for n, s in enumerate(kept)]
    unique: dict[str, Candidate] = {}
    for candidate in candidates:
        unique.setdefault(candidate.signed.note, candidate)
    checked = list(unique.values())
    reproduced: dict[str, bool] = {}
    for candidate in checked:
        problems += _key_problems(candidate, windows)
        if candidate.size > size:
            detail = f"{candidate.label} covers {candidate.size} entries, the ledger holds {size}"
            problems.append(Problem(size, TRUNCATED, detail))
            reproduced[candidate.signed.note] = False
        else:
            reproduced[candidate.signed.note] = (
                roots.covers(candidate.size) and roots.root(candidate.size) == candidate.root
            )
    problems += _forks_and_mismatches(checked, reproduced, size)
    return [c.size for c in checked], problems


def _key_problems(
    candidate: Candidate, windows: dict[str, tuple[int, int | None, int | None]]
) -> list[Problem]:
    if candidate.size == 0:
        return []
    fault = window_fault(windows, candidate.signed.key_id, candidate.size - 1)
    if fault is None:
        return []
    kind, detail = fault
    return [Problem(None, kind, f"{candidate.label} at size {candidate.size}: {detail}")]


def _forks_and_mismatches(
    checked: list[Candidate], reproduced: dict[str, bool], size: int
) -> list[Problem]:
    problems = []
    forked: set[str] = set()
    for index, one in enumerate(checked):
        for other in checked[index + 1 :]:
            if one.size == other.size and one.root != other.root:
                problems.append(_fork(one, other, "the same size with different roots"))
                forked |= {one.signed.note, other.signed.note}
    ledger_heads = sorted((c for c in checked if reproduced[c.signed.note]), key=lambda c: c.size)
    for candidate in checked:
        note = candidate.signed.note
        if reproduced[note] or candidate.size > size or note in forked:
            continue
        larger = next((h for h in ledger_heads if h.size > candidate.size), None)
        if larger is not None:
            problems.append(_fork(candidate, larger, "the smaller is not a prefix of the larger"))
            continue
        problems.append(
            Problem(
                None,
                CHECKPOINT,
                f"entries 0..{candidate.size - 1} do not reproduce the root of "
                f"{candidate.label} at size {candidate.size}",
            )
        )
    return problems


def _fork(one: Candidate, other: Candidate, how: str) -> Problem:
    detail = (
        f"{one.label} (size {one.size}) and {other.label} (size {other.size}) are both "
        f"validly signed but inconsistent: {how}; the log's key signed two histories"
    )
    return Problem(None, FORK, detail, (one.signed.note, other.signed.note))
