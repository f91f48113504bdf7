"""The database schema as tests compare it: every table the code makes on its own (the way the
release before migrations made them, lazily, the first time each was used), and a plain
description of a database's schema that two databases can be compared by.

``schema-v1.json`` beside this file froze what the previous release (before migrations) made
on SQLite and on PostgreSQL, once (2026-12-02), run against that release's code:

    .venv/bin/python -m tests.ledger.golden.schema > tests/ledger/golden/schema-v1.json

Do not run it again to "fix" a failing test: the baseline revision must make exactly that
schema, or a database of the previous release would not be what the migrations think it is.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder

from audit.access_log import AccessLog, access_settings
from domain.judging import Judging
from domain.noticeboard import Noticeboard
from domain.registration import Registration
from domain.retention_desk import RetentionDesk
from domain.submissions import Submissions
from ledger.application import ledger_environment
from ledger.ledger import Ledger, keyring_for
from ledger.settings import Settings
from services.inbox import open_inbox
from services.judging_read_models import open_judging
from services.mail import SentLog
from services.read_models import open_listings
from services.run_durations import open_run_durations
from services.standings_memo import StandingsMemo
from tests.ledger.history import make_settings
from tests.support import create_postgres_database, drop_postgres_database

SCHEMA_V1 = Path(__file__).parent / "schema-v1.json"
VERSION_TABLE = "alembic_version"


def make_tables_as_the_code_does(settings: Settings) -> None:
    """Open everything that makes a table, without the start-up check of the schema's
    revision: the applications of every desk and the access log, both streams' checkpoints,
    cosignatures and Merkle caches, the read models, the inbox, the mail log, the standings
    memo and the dispatcher's position."""
    apps = [
        app_class(env=ledger_environment(settings))
        for app_class in (Registration, Submissions, Judging, Noticeboard, RetentionDesk)
    ]
    access = AccessLog(env=ledger_environment(access_settings(settings)))
    engine = sa.create_engine(settings.database_url)
    try:
        for stream in (settings, access_settings(settings)):
            _ = Ledger(engine, keyring_for(stream), stream.events_table).tree
        app = apps[1]
        open_listings(app), open_judging(app), open_inbox(app), open_run_durations(app)
        datastore = app.factory.datastore  # type: ignore[attr-defined]
        SentLog(datastore)
        StandingsMemo(engine)
        SQLAlchemyTrackingRecorder(
            datastore=datastore, tracking_table_name="dispatcher_tracking"
        ).create_table()
    finally:
        engine.dispose()
        for each in (*apps, access):
            each.close()


def describe(engine: sa.Engine) -> dict[str, Any]:
    """Every table's columns (name, type, nullable, server default), primary key, indexes and
    unique constraints; on SQLite whether a table has no rowid, on PostgreSQL the triggers and
    our functions. Alembic's own version table is left out."""
    inspector = sa.inspect(engine)
    tables = {}
    for name in sorted(inspector.get_table_names()):
        if name == VERSION_TABLE:
            continue
        primary = inspector.get_pk_constraint(name)
        table: dict[str, Any] = {
            "columns": [
                [c["name"], _type(c["type"], engine), c["nullable"], _default(c.get("default"))]
                for c in inspector.get_columns(name)
            ],
            "primary_key": sorted(primary["constrained_columns"]),
            "indexes": sorted(
                [i["name"], i["column_names"], bool(i["unique"])]
                for i in inspector.get_indexes(name)
            ),
            "unique": sorted(
                [u["name"], u["column_names"]] for u in inspector.get_unique_constraints(name)
            ),
        }
        tables[name] = table
    described: dict[str, Any] = {"tables": tables}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            described["without_rowid"] = sorted(
                name
                for name, sql in conn.execute(
                    sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                )
                if sql and sql.rstrip().upper().endswith("WITHOUT ROWID")
            )
        else:
            described["triggers"] = sorted(
                list(row)
                for row in conn.execute(
                    sa.text(
                        "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                        "WHERE NOT tgisinternal"
                    )
                )
            )
            described["functions"] = sorted(
                row[0]
                for row in conn.execute(
                    sa.text(
                        "SELECT proname FROM pg_proc JOIN pg_namespace n "
                        "ON n.oid = pronamespace WHERE nspname = 'public'"
                    )
                )
            )
    return described


def _type(reflected: Any, engine: sa.Engine) -> str:
    return str(reflected.compile(dialect=engine.dialect))


def _default(default: Any) -> str | None:
    return None if default is None else str(default)


def describe_url(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        return describe(engine)
    finally:
        engine.dispose()


def main() -> None:
    described = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'previous.sqlite3'}"
        make_tables_as_the_code_does(make_settings(Path(tmp) / "home", sqlite_url))
        described["sqlite"] = describe_url(sqlite_url)
        postgres_url = create_postgres_database()
        try:
            settings = make_settings(Path(tmp) / "pg-home", postgres_url)
            make_tables_as_the_code_does(dataclasses.replace(settings))
            described["postgresql"] = describe_url(postgres_url)
        finally:
            drop_postgres_database(postgres_url)
    json.dump(described, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
