"""The read models checked against the log (``huiyan audit rebuild``): every read model is
rebuilt from the notification log into a fresh database beside the live one, and the two are
compared table by table, row by row.

Someone with SQL access may edit a listing (a team's status, a score, a sheet) or a kept
ranking of the leaderboard; nothing decides by them, but people read them. A rebuild from
the signed log is the truth to compare with: any row the log does not produce, or produces
otherwise, is named.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from sqlalchemy import Table, select

from domain.judging_read_models import JudgingReadModels
from domain.read_models import Listings
from ledger.read_models import LOG_NAME, PAGE, SQLView, catch_up
from scoring.rules import Rules
from services.judging_read_models import SQLJudging, open_judging, read_models
from services.read_models import SQLListings, open_listings
from services.standings import memo_differences

# (name, the live projection, the projection class and its SQL view)
READ_MODELS: tuple[tuple[str, Callable[..., Projection[Any]], type, type], ...] = (
    ("listings", open_listings, Listings, SQLListings),
    ("judging", open_judging, JudgingReadModels, SQLJudging),
)
ROUNDS = 5  # catch-ups to reach one position while events keep arriving
SHOWN = 10  # differences named per table


def compare_read_models(
    app: Application, rules_of: Callable[[UUID], Rules] | None = None
) -> list[str]:
    """What differs between the live read models and a rebuild from the log (empty: none);
    with ``rules_of`` (a contest's rules in force), the kept rankings of the leaderboard too
    (services/standings_memo.py), once the read models are known to be right."""
    differences: list[str] = []
    with tempfile.TemporaryDirectory(prefix="huiyan-rebuild-") as folder:
        fresh = SQLAlchemyDatastore(url=f"sqlite:///{Path(folder) / 'rebuilt.sqlite3'}")
        try:
            for name, open_projection, projection_class, view_class in READ_MODELS:
                # The library keeps one record class per tracking table name in a process:
                # the rebuilt view tracks its position under a name of its own.
                view = view_class(fresh, tracking_table_name=f"rebuilt_{name}_tracking")
                view.create_table()
                live, rebuilt = open_projection(app), projection_class(view)
                _same_position(app, live, rebuilt)
                for table in live.view.metadata.sorted_tables:
                    differences += _compare(name, table, live.view, rebuilt.view)
        finally:
            assert fresh.engine is not None
            fresh.engine.dispose()
    if rules_of is not None and not differences:
        differences += memo_differences(read_models(app), rules_of)
    return differences


def _same_position(app: Application, live: Projection[Any], rebuilt: Projection[Any]) -> None:
    """Catch the live rows up and replay the log into the rebuilt ones until both stand at
    the same position."""
    for _ in range(ROUNDS):
        catch_up(live, app)
        _replay(app, rebuilt)
        reached = {p.view.max_tracking_id(LOG_NAME) or 0 for p in (live, rebuilt)}
        if len(reached) == 1:
            return
    raise RuntimeError("the log kept growing; run the check again")


def _replay(app: Application, projection: Projection[Any]) -> None:
    """``catch_up`` for a view in another database: each page of the log is read first, then
    written in one transaction there (the library's sessions are per thread, so a read of the
    live log must not run inside the other database's transaction)."""
    view, topics = projection.view, list(projection.topics)
    while True:
        last = view.max_tracking_id(LOG_NAME) or 0
        page = app.recorder.select_notifications(
            start=last, limit=PAGE, topics=topics, inclusive_of_start=False
        )
        if not page:
            return
        events = [(app.mapper.to_domain_event(n), Tracking(LOG_NAME, n.id)) for n in page]
        with view.page(LOG_NAME):
            for event, tracking in events:
                projection.process_event(event, tracking)


def _rows(view: SQLView, table: Table) -> dict[tuple, tuple]:
    key = list(table.primary_key.columns) or list(table.columns)
    with view.transaction(commit=False) as session:
        found = session.execute(select(table)).all()
    names = [column.name for column in key]
    return {tuple(getattr(row, name) for name in names): tuple(row) for row in found}


def _compare(name: str, table: Table, live: SQLView, rebuilt: SQLView) -> list[str]:
    ours, truth = _rows(live, table), _rows(rebuilt, table)
    columns = [column.name for column in table.columns]
    found = []
    for key in sorted(set(ours) | set(truth), key=str):
        if key not in truth:
            found.append(f"{name}: {table.name} {_key(key)}: a row the log does not produce")
        elif key not in ours:
            found.append(f"{name}: {table.name} {_key(key)}: missing (the log produces it)")
        elif ours[key] != truth[key]:
            changed = [c for c, a, b in zip(columns, ours[key], truth[key], strict=True) if a != b]
            found.append(
                f"{name}: {table.name} {_key(key)}: {', '.join(changed)} differ from the log's"
            )
    if len(found) > SHOWN:
        found = [*found[:SHOWN], f"{name}: {table.name}: and {len(found) - SHOWN} more rows"]
    return found


def _key(key: tuple) -> str:
    return "(" + ", ".join(str(part) for part in key) + ")"
