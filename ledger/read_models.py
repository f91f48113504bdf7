"""Run the library's projections over the ledger's notification log: catch up to the head, and
rebuild from zero. Contest-agnostic: any ``eventsourcing.projection.Projection`` with a tracking
recorder for its view.

The library's ``ProjectionRunner`` follows an application through its subscription, which
eventsourcing-sqlalchemy offers on PostgreSQL only (LISTEN/NOTIFY); the same projections must
run on SQLite, and the CLI wants "up to the head, now" before a read. So :func:`catch_up` reads
the notification log after the view's tracked position, in pages, and hands each event with its
``Tracking`` to ``process_event``, exactly as the runner would.

A view that is a :class:`SQLView` takes a page in one transaction: it locks its tracking
position, re-reads it inside the transaction (another process may have moved it), writes the
rows of the page and the position of its last event, and commits. A crash anywhere in a page
leaves neither rows nor position of it, and two processes catching up at once never apply an
event twice.

Within one process (a web server's threads) the view's own state (the page's session) is not
shared between threads: a view catches up in one thread at a time (its ``catching`` lock), and
views are made one at a time (the datastore's record classes are defined on a shared base).
"""

from __future__ import annotations

import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import MetaData, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from ledger.tables import create_missing

LOG_NAME = "ledger"  # every application writes to one log, so one position covers all
PAGE = 500
_DEFINING = threading.Lock()  # record classes and tables are defined one view at a time


class SQLView(SQLAlchemyTrackingRecorder):
    """A tracking recorder whose rows live in tables of the same database.

    Subclasses declare their tables on ``self.metadata`` and write through ``self.session``
    inside :meth:`page`; each write method ends with :meth:`track`. Outside a page a write
    opens its own transaction (the library's one-event-at-a-time contract)."""

    def __init__(self, datastore: SQLAlchemyDatastore, **kwargs: Any) -> None:
        with _DEFINING:
            super().__init__(datastore=datastore, **kwargs)
        self.catching = threading.Lock()
        self.metadata = MetaData()
        self._session: Session | None = None
        self._tracked: Tracking | None = None
        self._updates: dict[tuple[str, tuple[str, ...]], Any] = {}

    def own_tables(self) -> list[Table]:
        """Every table the view needs: its tracking table, then its rows'."""
        return [self.tracking_table, *self.metadata.sorted_tables]

    def create_table(self) -> None:
        with _DEFINING:
            assert self.datastore.engine is not None
            create_missing(self.datastore.engine, self.own_tables())

    def drop(self) -> None:
        """Drop the rows' tables and the tracking table: the view starts from zero."""
        assert self.datastore.engine is not None
        self.metadata.drop_all(self.datastore.engine, checkfirst=True)
        self.tracking_table.drop(self.datastore.engine, checkfirst=True)

    # --- writing ----------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        assert self._session is not None, "write inside page() or through a write method"
        return self._session

    @contextmanager
    def page(self, name: str) -> Iterator[int]:
        """One transaction; yields the position tracked under ``name`` as read inside it,
        after taking the view's lock, and stores the last tracked position at the end."""
        if self._session is not None:  # nested: the outer page owns the transaction
            yield self.max_tracking_id(name) or 0
            return
        with self.datastore.transaction(commit=True) as session:
            self._lock(session, name)
            self._session, self._tracked = session, None
            try:
                yield self._position(session, name)
                if self._tracked is not None:
                    self._store_tracking(session, self._tracked)
            finally:
                self._session, self._tracked = None, None

    def track(self, tracking: Tracking) -> None:
        """Record (at the end of the page) that the event at ``tracking`` is in the rows."""
        if self._session is None:
            with self.datastore.transaction(commit=True) as session:
                self._store_tracking(session, tracking)
        else:
            self._tracked = tracking

    def update_row(
        self, session: Session, table: Table, ident: Any, values: dict[str, Any]
    ) -> None:
        """``UPDATE table SET values WHERE id = ident``. The statement is built once per table
        and set of columns: a rebuild runs it hundreds of thousands of times, and building a
        statement costs SQLAlchemy more than running it."""
        key = (table.name, tuple(values))
        statement = self._updates.get(key)
        if statement is None:
            statement = self._updates[key] = (
                update(table)
                .where(table.c.id == bindparam("ident"))
                .values({name: bindparam(f"new_{name}") for name in values})
            )
        session.execute(statement, {"ident": ident, **{f"new_{k}": v for k, v in values.items()}})

    @contextmanager
    def writing(self, tracking: Tracking) -> Iterator[Session]:
        """The session a write method uses: the page's, or a transaction of its own."""
        if self._session is not None:
            yield self._session
            self._tracked = tracking
            return
        with self.page(tracking.application_name):
            yield self.session
            self._tracked = tracking

    def _lock(self, session: Session, name: str) -> None:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            key = zlib.crc32(f"{self.tracking_table_name}:{name}".encode())
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
        elif connection.dialect.name == "sqlite":
            driver = connection.connection.dbapi_connection
            if not driver.in_transaction:  # type: ignore[union-attr]
                # pysqlite begins a transaction only at the first write: take the write lock
                # now, so the position read next cannot be overtaken by another process.
                driver.cursor().execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]

    def _position(self, session: Session, name: str) -> int:
        table = self.tracking_table
        found = session.execute(
            select(table.c.notification_id).where(table.c.application_name == name)
        ).scalar()
        return found or 0

    def _store_tracking(self, session: Session, tracking: Tracking) -> None:
        table = self.tracking_table
        moved = session.execute(
            update(table)
            .where(table.c.application_name == tracking.application_name)
            .values(notification_id=tracking.notification_id)
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            session.execute(
                table.insert().values(
                    application_name=tracking.application_name,
                    notification_id=tracking.notification_id,
                )
            )

    def forget(self, name: str) -> None:
        """Delete the tracked position (the rows stay): for tests of a lost position."""
        with self.datastore.transaction(commit=True) as session:
            session.execute(
                delete(self.tracking_table).where(self.tracking_table.c.application_name == name)
            )


def catch_up(
    projection: Projection[Any],
    app: Application,
    *,
    name: str = LOG_NAME,
    page: int = PAGE,
) -> int:
    """Process every notification of the projection's topics after the tracked position, up
    to the head, including events appended while it runs (a job run in this process); return
    how many events were processed.

    A read that finds the log's head and the view's position where this process last left
    them returns at once: nothing was appended since and nobody reset the view, so there is
    nothing to take the view's lock for (a web server's reads would otherwise queue on it, one
    write transaction each)."""
    view: TrackingRecorder = projection.view
    head = app.recorder.max_notification_id() or 0
    if _caught_up.get(view) == (head, view.max_tracking_id(name) or 0):
        return 0
    topics = list(projection.topics)
    processed = 0
    while True:
        if isinstance(view, SQLView):
            with view.catching, view.page(name) as last:
                count = _process_page(projection, app, name, last, page, topics)
        else:
            last = view.max_tracking_id(name) or 0
            count = _process_page(projection, app, name, last, page, topics)
        processed += count
        if not count:  # events appended while a page ran are read before returning
            _caught_up[view] = (head, view.max_tracking_id(name) or 0)
            return processed


# Where this process last left each view: (the log's head then, the view's position then).
_caught_up: weakref.WeakKeyDictionary[TrackingRecorder, tuple[int, int]] = (
    weakref.WeakKeyDictionary()
)


def _process_page(
    projection: Projection[Any],
    app: Application,
    name: str,
    last: int,
    page: int,
    topics: list[str],
) -> int:
    notifications = app.recorder.select_notifications(
        start=last, limit=page, topics=topics, inclusive_of_start=False
    )
    for notification in notifications:
        event = app.mapper.to_domain_event(notification)
        projection.process_event(event, Tracking(name, notification.id))
    return len(notifications)


def rebuild(
    projection: Projection[Any], app: Application, *, name: str = LOG_NAME
) -> tuple[int, float]:
    """Drop the view's tables and position, create them again and catch up from zero;
    return (events processed, seconds taken)."""
    view = projection.view
    assert isinstance(view, SQLView), "only a SQLView can be dropped and rebuilt"
    started = time.perf_counter()
    view.drop()
    view.create_table()
    processed = catch_up(projection, app, name=name)
    return processed, time.perf_counter() - started
