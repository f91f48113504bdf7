"""The run durations in SQL (table ``rm_run_durations``, position in ``run_durations_tracking``):
the view domain.run_durations.RunDurations writes, and the histogram query the metrics read.

The dispatcher catches it up every round (workers/pipeline.py), ``huiyan read-models rebuild``
rebuilds it; a scrape only reads it (:func:`read_durations`), so a scrape never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from domain.run_durations import DurationsView, RunDurations
from ledger.read_models import SQLView
from scoring.rules import TRACKS

TABLE = "rm_run_durations"
TRACKING_TABLE = "run_durations_tracking"
RunStage = Literal["inference", "scoring"]


@dataclass(frozen=True)
class Durations:
    """One track's durations of one stage, as a histogram: how many runs took at most each
    bound (cumulative, in the order of the bounds asked for), how many in all, and their sum."""

    track: int
    at_most: list[int]
    count: int
    total_seconds: float


def durations_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE,
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("track", sa.Integer, nullable=False),
        sa.Column("inference_seconds", sa.Float),
        sa.Column("inferred_at", sa.Float),  # seconds since the epoch, for the subtraction
        sa.Column("scoring_seconds", sa.Float),
    )


class SQLDurations(SQLView, DurationsView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", TRACKING_TABLE)
        super().__init__(datastore, **kwargs)
        self.rows = durations_table(self.metadata)

    def submitted(self, submission_id: UUID, track: int, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(self.rows.insert().values(id=submission_id, track=track))

    def inferred(
        self, submission_id: UUID, seconds: float, at: datetime, tracking: Tracking
    ) -> None:
        with self.writing(tracking) as session:
            values = {"inference_seconds": seconds, "inferred_at": at.timestamp()}
            self.update_row(session, self.rows, submission_id, values)

    def scored(self, submission_id: UUID, at: datetime, tracking: Tracking) -> None:
        rows = self.rows
        with self.writing(tracking) as session:
            session.execute(
                sa.update(rows)
                .where(rows.c.id == submission_id)
                .values(scoring_seconds=sa.literal(at.timestamp()) - rows.c.inferred_at)
            )

    def skip(self, tracking: Tracking) -> None:
        self.track(tracking)


def read_durations(engine: sa.Engine, stage: RunStage, bounds: list[float]) -> list[Durations]:
    """Every track's durations of ``stage`` in one query; none before the dispatcher (or a
    rebuild) first made the table."""
    if not sa.inspect(engine).has_table(TABLE):
        return []
    column = durations_table(sa.MetaData()).c[f"{stage}_seconds"]
    at_most = [sa.func.sum(sa.case((column <= bound, 1), else_=0)) for bound in bounds]
    query = (
        sa.select(column.table.c.track, sa.func.count(), sa.func.sum(column), *at_most)
        # a track the contest has not is a row someone wrote by hand: never a label of its own
        .where(column.is_not(None), column.table.c.track.between(TRACKS[0], TRACKS[-1]))
        .group_by(column.table.c.track)
        .order_by(column.table.c.track)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Durations(track, [int(n) for n in counts], int(count), float(total))
        for track, count, total, *counts in rows
    ]


def open_run_durations(app: Application) -> RunDurations:
    """The projection over the database ``app`` writes to, its table created."""
    view = SQLDurations(app.factory.datastore)  # type: ignore[attr-defined]
    view.create_table()
    return RunDurations(view)
