"""A track's ranked standings, kept between reads while nothing they depend on changed.

Ranking a thousand entries with the scoring package costs tens of milliseconds per read; the
leaderboard is read far more often than the events that change it are written. So the ranked
lines are kept in a table, keyed by what they were computed from: the contest and track, the
rules document's SHA-256, and the positions the two read models had reached (the listings:
submissions' figures and teams' names; the judging rows: reviews, sheets, corrections). Any
new event either read model takes in moves its position, and the next read computes afresh.

A memo, not a read model: no rule and no decision reads it, it holds nothing the read models
do not, and deleting its rows (or the table) only costs the next read its ranking. `huiyan
read-models rebuild` empties it; `huiyan audit rebuild` ranks afresh every kept ranking a read
would use now and names any that differs (an edit by SQL).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError

from ledger.read_models import LOG_NAME
from ledger.tables import create_missing

MEMO_TABLE = "rm_standings_memo"
_POSITION = BigInteger().with_variant(Integer(), "sqlite")


class StandingsMemo:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        metadata = MetaData()
        self.table = Table(
            MEMO_TABLE,
            metadata,
            Column("contest_id", Uuid, primary_key=True),
            Column("track", Integer, primary_key=True),
            Column("rules_sha256", String(64), nullable=False),
            Column("listings_position", _POSITION, nullable=False),
            Column("judging_position", _POSITION, nullable=False),
            Column("lines", Text, nullable=False),  # JSON: one object per line
        )
        create_missing(engine, [self.table])

    def lines(
        self,
        contest_id: UUID,
        track: int,
        key: tuple[str, int, int],
        compute: Callable[[], list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """The memo's lines when ``key`` (rules SHA-256, listings and judging positions) is
        the one they were computed under; else ``compute()``, kept for the next read."""
        table = self.table
        where = (table.c.contest_id == contest_id, table.c.track == track)
        with self.engine.connect() as conn:
            found = conn.execute(
                select(
                    table.c.rules_sha256,
                    table.c.listings_position,
                    table.c.judging_position,
                    table.c.lines,
                ).where(*where)
            ).first()
        if found is not None and tuple(found[:3]) == key:
            return json.loads(found.lines)
        lines = compute()
        rules_sha256, listings, judging = key
        # Two readers may rank at once: the one that keeps its lines second loses nothing.
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
            conn.execute(delete(table).where(*where))
            conn.execute(
                table.insert().values(
                    contest_id=contest_id,
                    track=track,
                    rules_sha256=rules_sha256,
                    listings_position=listings,
                    judging_position=judging,
                    lines=json.dumps(lines),
                )
            )
        return lines

    def rows(self) -> list[tuple[UUID, int, tuple[str, int, int], list[dict[str, Any]]]]:
        """Every kept ranking: (contest, track, the key it was computed under, its lines)."""
        table = self.table
        with self.engine.connect() as conn:
            found = conn.execute(select(table)).all()
        return [
            (
                row.contest_id,
                row.track,
                (row.rules_sha256, row.listings_position, row.judging_position),
                json.loads(row.lines),
            )
            for row in found
        ]

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table))


def positions(views: tuple[Any, Any]) -> tuple[int, int]:
    """The positions the listings and the judging rows have reached."""
    listings, judging = views
    return (listings.max_tracking_id(LOG_NAME) or 0, judging.max_tracking_id(LOG_NAME) or 0)


def as_line(standing: Any, submitted_at: datetime, team_name: str | None) -> dict[str, Any]:
    """A ranked line as the memo keeps it: plain JSON (ids as text, the submission time as
    seconds since the epoch), so a read decodes a thousand lines without building objects it
    does not need."""
    line = asdict(standing)
    line["team_id"], line["submission_id"] = str(standing.team_id), str(standing.submission_id)
    line["corrected"] = list(standing.corrected)
    return {**line, "submitted_ts": submitted_at.timestamp(), "team_name": team_name}
