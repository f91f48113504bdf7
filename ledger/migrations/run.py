"""Where a database's schema stands, bringing it to this release's head, and the check every
application makes before it opens (docs/migrations.md).

A database is in one of five states: **empty** (none of huiyan's tables), **unversioned**
(tables of the release before migrations, no ``alembic_version``), **behind** (an older
revision), **current** (this release's head) or **unknown** (a revision this release does not
have: a newer release migrated it). :func:`migrate` takes an empty, unversioned or behind
database to the head in one transaction, under a lock, so that two processes starting together
cannot both migrate; an unversioned one only after :func:`recognise` found the baseline's
columns in every table it has. :func:`require_current` is what opening an application asks:
current goes on; an empty database is given the schema unless ``HUIYAN_ENV=production``; any
other state is refused with one line that says to run ``huiyan ledger migrate``.

Alembic is configured here, in code: the revisions are in ``versions/`` beside this file.
"""

from __future__ import annotations

import functools
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ledger.ledger import LedgerError, engine_for
from ledger.migrations.rules import MigrationRefused
from ledger.settings import Settings

LOCATION = Path(__file__).parent
BASELINE = "0001"
_LOCK_KEY = zlib.crc32(b"huiyan migrations")

EMPTY, UNVERSIONED, BEHIND, CURRENT, UNKNOWN = (
    "empty",
    "unversioned",
    "behind",
    "current",
    "unknown",
)


class SchemaNotReady(LedgerError):
    """The database's schema is not this release's: the message says what to run."""


@dataclass(frozen=True)
class SchemaState:
    kind: str
    current: str | None  # the revision recorded in the database
    head: str  # this release's

    def describe(self) -> str:
        """One line for the operator: where the database stands and what to do."""
        if self.kind == CURRENT:
            return f"the database is at revision {self.current}, this release's head"
        if self.kind == UNKNOWN:
            return (
                f"the database is at revision {self.current}, which this release does not "
                f"know (its head is {self.head}): a newer release migrated it; run that release"
            )
        where = {
            EMPTY: "the database has no huiyan schema yet",
            UNVERSIONED: "the database was made by the release before migrations",
            BEHIND: f"the database is at revision {self.current}",
        }[self.kind]
        return f"{where}; this release needs revision {self.head}: run huiyan ledger migrate"


def config(connection: sa.Connection | None = None, location: Path = LOCATION) -> Config:
    """Alembic's configuration, without alembic.ini: the revisions at ``location``, run on
    ``connection`` (env.py takes it from the attributes; none is needed to write a new
    revision from the template)."""
    made = Config()
    made.set_main_option("script_location", str(location))
    made.attributes["connection"] = connection
    return made


@functools.cache
def scripts(location: Path = LOCATION) -> ScriptDirectory:
    return ScriptDirectory(str(location))


def baseline_tables(location: Path = LOCATION) -> sa.MetaData:
    """The tables of the baseline revision, as it declares them."""
    module = scripts(location).get_revision(BASELINE).module
    return module.metadata  # type: ignore[no-any-return]


def read_state(connection: sa.Connection, location: Path = LOCATION) -> SchemaState:
    directory = scripts(location)
    head = directory.get_current_head()
    assert head is not None, f"no revisions in {location}"
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        ours = set(baseline_tables(location).tables)
        present = ours & set(sa.inspect(connection).get_table_names())
        return SchemaState(UNVERSIONED if present else EMPTY, None, head)
    if current == head:
        return SchemaState(CURRENT, current, head)
    known = {script.revision for script in directory.walk_revisions()}
    return SchemaState(BEHIND if current in known else UNKNOWN, current, head)


def recognise(connection: sa.Connection, location: Path = LOCATION) -> None:
    """Refuse an unversioned database unless it is one the release before migrations made:
    its events table is there, and every baseline table it has has exactly the baseline's
    columns."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    tables = baseline_tables(location).tables
    if "ledger_events" not in present:
        raise MigrationRefused(
            "the database has some of huiyan's tables but no ledger_events: it was not made "
            "by a release of huiyan; nothing changed"
        )
    problems = []
    for name in sorted(present & set(tables)):
        found = {column["name"] for column in inspector.get_columns(name)}
        expected = set(tables[name].columns.keys())
        if missing := sorted(expected - found):
            problems.append(f"{name} lacks {', '.join(missing)}")
        if extra := sorted(found - expected):
            problems.append(f"{name} has {', '.join(extra)} that the baseline does not")
    if problems:
        raise MigrationRefused(
            "the database is not the schema of the release before migrations ("
            + "; ".join(problems)
            + "): it was not recorded as the baseline; nothing changed"
        )


def migrate(url: str, location: Path = LOCATION) -> tuple[SchemaState, SchemaState]:
    """Bring the database at ``url`` to the head; (state before, state after).

    One transaction under the migration lock: the state is read again inside it (another
    process may have migrated meanwhile), and a refused revision leaves nothing behind."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection, connection.begin():
            _lock(connection)
            before = read_state(connection, location)
            if before.kind == UNKNOWN:
                raise MigrationRefused(before.describe())
            if before.kind == UNVERSIONED:
                recognise(connection, location)
            if before.kind != CURRENT:
                # From nothing, the baseline makes only what is missing: on an unversioned
                # database it completes the schema and records it as the baseline.
                command.upgrade(config(connection, location), "head")
            after = read_state(connection, location)
    except sa.exc.OperationalError as error:
        raise LedgerError(f"cannot migrate the database: {_reason(error)}") from None
    finally:
        engine.dispose()
    return before, after


def state_of(url: str, location: Path = LOCATION) -> SchemaState:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return read_state(connection, location)
    except sa.exc.OperationalError as error:
        raise LedgerError(f"cannot open the database: {_reason(error)}") from None
    finally:
        engine.dispose()


_CURRENT: set[str] = set()  # databases this process found at the head
_CHECKING = threading.Lock()


def require_current(settings: Settings) -> None:
    """What opening an application asks first (ledger.application.open_application).

    At the head: go on (and do not ask again in this process). Empty: make the schema, unless
    in production, where the operator runs ``huiyan ledger migrate`` before any service starts.
    Anything else: refuse with one line. An in-memory SQLite database is private to each
    engine, so it is left to the application, which makes its tables as it always did."""
    url = settings.database_url
    if url in _CURRENT or ":memory:" in url:
        return
    with _CHECKING:
        if url in _CURRENT:
            return
        state = state_of(url)
        if state.kind == EMPTY and not settings.is_production:
            _, state = migrate(url)
        if state.kind != CURRENT:
            raise SchemaNotReady(state.describe())
        _CURRENT.add(url)


def _lock(connection: sa.Connection) -> None:
    """Hold the database's write lock (SQLite) or huiyan's migration lock (PostgreSQL) until
    the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
        return
    driver = connection.connection.dbapi_connection
    if not driver.in_transaction:  # type: ignore[union-attr]
        # pysqlite begins a transaction only before a write, and never before DDL: begin one
        # that holds the write lock now, so that the schema is read and changed under it.
        driver.cursor().execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def _reason(error: sa.exc.OperationalError) -> str:
    return str(error.orig).strip().splitlines()[-1]
