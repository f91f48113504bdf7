"""Name what happened at each run of failed rows, from signed columns only.

A worker only says how a row failed (``Raw``); one tampering usually fails many rows (an
inserted row shifts every row after it). The first failed row of a run is named here, and
the rows that fail only because of it are counted into its detail, not reported again.

The evidence is what the ledger's key signed: every row's ``leaf_hash`` (which binds the
position and content) and ``prev_hash`` (which binds the whole history before it). So:

- a row whose signature fails, but the next genuine row links over it to the row before, was
  ``inserted``; otherwise it is a ``bad signature`` or an ``unknown key``;
- a validly signed row that is not the one its position expects (its signed leaf or link is
  another position's) is ``inserted`` when its signed hashes are a copy of another row's,
  ``reordered`` when the row its position expects is further on, and ``deleted`` when that row
  is gone (rows removed and the rest renumbered);
- content that does not hash to its signed leaf, in the right place, is ``modified``.

The notification id is never used: it is not signed, and an attacker can set it at will.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

import sqlalchemy as sa

from ledger import report as kinds
from ledger.keys import VerifierKey
from ledger.report import MAX_PROBLEMS, Problem
from ledger.rows import Entry, rows_where

SHIFT_SEARCH = 64  # how far a renumbered row is looked for, either way


class Raw(StrEnum):
    """How one row failed, before anyone asks why."""

    DELETED = kinds.DELETED  # positions missing (the failure's position is the first)
    UNDECODABLE = "undecodable"
    DUPLICATE = "duplicate"
    UNKNOWN_KEY = kinds.UNKNOWN_KEY
    BAD_SIGNATURE = kinds.BAD_SIGNATURE
    CONTENT = "content"  # in its place, but content does not hash to its signed leaf
    LINK = "link"  # signed and hashing right, but not linked to the row before
    MOVED = "moved"  # validly signed for another place
    RETIRED_KEY = kinds.RETIRED_KEY
    REVOKED_KEY = kinds.REVOKED_KEY


# How a failure is named without looking further (past the problems a report lists).
_UNQUERIED = {
    Raw.UNDECODABLE: kinds.MODIFIED,
    Raw.DUPLICATE: kinds.INSERTED,
    Raw.CONTENT: kinds.MODIFIED,
    Raw.LINK: kinds.MODIFIED,
    Raw.MOVED: kinds.REORDERED,
}

# Failures that a broken row before them explains.
_CONSEQUENCES = {Raw.LINK, Raw.MOVED}


class Failure(NamedTuple):
    position: int
    raw: Raw
    detail: str
    chain: bytes | None = None  # the chain hash of the row before, when it was there
    entry: Entry | None = None
    last: int | None = None  # a gap's last missing position


def diagnose(
    failures: Sequence[Failure], conn: sa.Connection, table: str, keys: dict[str, VerifierKey]
) -> list[Problem]:
    ordered = _merge_gaps(sorted(failures, key=lambda f: f.position))
    failed = {f.position for f in ordered}
    gaps = [f for f in ordered if f.raw is Raw.DELETED]
    problems: list[Problem] = []
    head: Problem | None = None
    followers = 0
    for failure in ordered:
        position = failure.position
        after_gap = any(g.position <= position - 1 <= (g.last or g.position) for g in gaps)
        before_failed = position - 1 in failed or after_gap
        # A row signed for elsewhere right after a gap is no consequence of the gap (rows
        # after a deletion keep their own positions): it is named on its own.
        explained = not (after_gap and failure.raw is Raw.MOVED)
        if failure.raw in _CONSEQUENCES and before_failed and explained and head is not None:
            followers += 1
            continue
        if head is not None:
            problems.append(_with_followers(head, followers))
        if len(problems) < MAX_PROBLEMS:
            head = _name(failure, conn, table, keys)
        else:  # past what the report lists: no more queries (each one reads the table)
            head = Problem(position, _UNQUERIED.get(failure.raw, str(failure.raw)), failure.detail)
        followers = 0
    if head is not None:
        problems.append(_with_followers(head, followers))
    return problems


def _merge_gaps(ordered: list[Failure]) -> list[Failure]:
    """One failure per gap, also where a gap spans the end of one range and the start of
    the next."""
    merged: list[Failure] = []
    for failure in ordered:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.raw is Raw.DELETED
            and failure.raw is Raw.DELETED
            and (last.last or last.position) + 1 == failure.position
        ):
            end = failure.last or failure.position
            merged[-1] = last._replace(detail=f"positions {last.position}..{end} are", last=end)
        else:
            merged.append(failure)
    return merged


def _with_followers(problem: Problem, followers: int) -> Problem:
    if not followers:
        return problem
    s = "y" if followers == 1 else "ies"
    detail = f"{problem.detail}; the {followers} entr{s} after it fail because of it"
    return dataclasses.replace(problem, detail=detail)


def _name(
    failure: Failure, conn: sa.Connection, table: str, keys: dict[str, VerifierKey]
) -> Problem:
    position, raw = failure.position, failure.raw
    if raw is Raw.DELETED:
        return Problem(position, kinds.DELETED, f"{failure.detail} missing")
    if raw is Raw.UNDECODABLE:
        return Problem(position, kinds.MODIFIED, failure.detail)
    if raw is Raw.DUPLICATE:
        return Problem(position, kinds.INSERTED, failure.detail)
    if raw is Raw.CONTENT:
        return Problem(position, kinds.MODIFIED, failure.detail)
    if raw is Raw.LINK:
        return Problem(position, kinds.MODIFIED, failure.detail)
    if raw in (Raw.UNKNOWN_KEY, Raw.BAD_SIGNATURE):
        genuine = _next_linking(conn, table, keys, failure.chain, position)
        if genuine is not None:
            return Problem(position, kinds.INSERTED, _inserted_detail(position, genuine))
        verb = "does not verify" if raw is Raw.BAD_SIGNATURE else "is not a trusted key"
        return Problem(position, str(raw), f"{failure.detail} {verb}")
    if raw is Raw.MOVED:
        return _name_moved(failure, conn, table, keys)
    return Problem(position, str(raw), failure.detail)  # retired or revoked key


def _name_moved(
    failure: Failure, conn: sa.Connection, table: str, keys: dict[str, VerifierKey]
) -> Problem:
    position, entry = failure.position, failure.entry
    assert entry is not None
    copies = [
        e.position
        for e in rows_where(conn, table, "leaf_hash", entry.leaf_hash)
        if e.position != position and e.prev_hash == entry.prev_hash
    ]
    if copies:
        detail = f"a copy of the signed hashes of the entry at position {copies[0]}"
        return Problem(position, kinds.INSERTED, detail)
    genuine = _next_linking(conn, table, keys, failure.chain, position)
    if genuine is not None:
        detail = (
            f"a validly signed entry from elsewhere; the entry the ledger wrote here is at "
            f"position {genuine}"
        )
        return Problem(position, kinds.REORDERED, detail)
    signed_for = _signed_position(entry)
    if signed_for is not None and signed_for > position:
        missing = signed_for - position
        s = "y" if missing == 1 else "ies"
        detail = (
            f"{missing} entr{s} before it were removed and the entries after renumbered "
            f"(this one was signed for position {signed_for})"
        )
        return Problem(position, kinds.DELETED, detail)
    where = f"position {signed_for}" if signed_for is not None else "another position"
    return Problem(position, kinds.REORDERED, f"a validly signed entry for {where}")


def _next_linking(
    conn: sa.Connection,
    table: str,
    keys: dict[str, VerifierKey],
    chain: bytes | None,
    position: int,
) -> int | None:
    """The first later position whose validly signed row links to ``chain``: the ledger's
    own next entry after the row before ``position``."""
    if chain is None:
        return None
    for entry in rows_where(conn, table, "prev_hash", chain):
        if entry.position > position and entry.signed_by(keys):
            return entry.position
    return None


def _signed_position(entry: Entry) -> int | None:
    """The position the entry's signed leaf was made for, looked for near where it is."""
    for shift in range(1, SHIFT_SEARCH + 1):
        for candidate in (entry.position + shift, entry.position - shift):
            moved = entry._replace(position=candidate)
            if candidate >= 0 and moved.derived_leaf() == entry.leaf_hash:
                return candidate
    return None


def _inserted_detail(position: int, genuine: int) -> str:
    last = genuine - 1
    span = f"position {position}" if last == position else f"positions {position}..{last}"
    return f"{span} are not the ledger's: the entry after them links over them"
