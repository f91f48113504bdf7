"""The migrations (ledger/migrations, docs/migrations.md): the baseline is the previous release's
schema exactly, the head is what the code declares, every revision keeps the rules (events only
gain columns, evidence never loses rows) and a revision that breaks one is refused, a database
is recognised as the previous release's only by its columns, and applications refuse to open a
database whose schema is not this release's."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from eventsourcing.application import Application

from domain.registration import Registration
from ledger.application import open_application
from ledger.migrations import run
from ledger.migrations.rules import MigrationRefused, breaches, survey
from ledger.migrations.tables import DERIVED, EVENTS, EVIDENCE, KEPT
from ledger.settings import Settings
from tests.ledger.golden.load import golden_database
from tests.ledger.golden.schema import (
    SCHEMA_V1,
    describe_url,
    make_tables_as_the_code_does,
)
from tests.ledger.history import huiyan_for, make_settings
from tests.ledger.revisions import SYNTHETIC, location_with, upgrade_to
from tests.support import create_postgres_database, drop_postgres_database

HEAD = run.scripts().get_current_head()

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> str:
    """An empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def state(url: str) -> run.SchemaState:
    return run.state_of(url)


# --- the schema ------------------------------------------------------------------------------


def test_the_baseline_is_the_schema_the_previous_release_made(url):
    upgrade_to(url, run.BASELINE)
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    assert describe_url(url) == json.loads(SCHEMA_V1.read_text())[dialect]


@pytest.fixture
def another(url, tmp_path) -> Iterator[str]:
    """A second empty database of the same kind as ``url``."""
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'another.sqlite3'}"
        return
    made = create_postgres_database()
    try:
        yield made
    finally:
        drop_postgres_database(made)


def test_the_head_is_the_schema_the_code_declares(url, another, tmp_path):
    """A table or index added to the code without a revision (or the other way) fails here."""
    make_tables_as_the_code_does(make_settings(tmp_path / "home", another))
    run.migrate(url)
    assert describe_url(url) == describe_url(another)


def test_every_table_is_events_evidence_or_derived(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    run.migrate(url)
    tables = set(describe_url(url)["tables"])
    kinds = [*EVENTS, *EVIDENCE, *DERIVED]
    assert len(kinds) == len(set(kinds))
    assert tables == set(kinds)


def test_revision_0002_gives_a_teams_results_page_an_index(tmp_path):
    """Before: the review of one entry is found by scanning every review; after: by index."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    query = "EXPLAIN QUERY PLAN SELECT * FROM rm_reviews WHERE submission_id = 'x'"

    def plan() -> str:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            found = " ".join(row[-1] for row in connection.execute(sa.text(query)))
        engine.dispose()
        return found

    upgrade_to(url, "0001")
    assert plan().startswith("SCAN rm_reviews")
    run.migrate(url)
    assert "USING INDEX rm_reviews_submission" in plan()


# --- the rules -------------------------------------------------------------------------------


def fill_kept_tables(url: str) -> None:
    """A row in every events and evidence table of a database at the baseline."""
    stamp = NOW.isoformat()
    events = [
        f"INSERT INTO {name} (position, leaf_hash, prev_hash, key_id, signature, originator_id,"
        f" originator_version, topic, state) VALUES (0, :h, :h, 'k', :h, :u, 1, 't', :h)"
        for name in EVENTS
    ]
    engine = sa.create_engine(url)
    ident = uuid.uuid4()
    with engine.begin() as connection:
        value = ident.bytes if url.startswith("sqlite") else ident
        for statement in events:
            connection.execute(sa.text(statement), {"h": b"\x01" * 32, "u": value})
        for stream in EVENTS:
            for table, text in (("checkpoints", "note"), ("cosignatures", "line")):
                connection.execute(
                    sa.text(
                        f"INSERT INTO {stream}_{table} (tree_size, root_hash, key_id, {text}, "
                        f"{'issued_at' if table == 'checkpoints' else 'received_at'}) "
                        "VALUES (1, :h, 'k', 'text', :at)"
                    ),
                    {"h": b"\x02" * 32, "at": NOW},
                )
        connection.execute(
            sa.text("INSERT INTO mail_sent (key, state, at) VALUES ('m1', 'sent', :at)"),
            {"at": stamp},
        )
        connection.execute(
            sa.text("INSERT INTO inbox_read (account_id, message_id, at) VALUES (:a, :m, :at)"),
            {"a": uuid.uuid4().hex, "m": uuid.uuid4().hex, "at": stamp},
        )
    engine.dispose()


def contents(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = {
            name: sorted(map(tuple, connection.execute(sa.text(f"SELECT * FROM {name}"))))
            for name in KEPT
        }
    engine.dispose()
    return found


def test_each_revision_keeps_every_events_column_and_every_evidence_row(url):
    upgrade_to(url, run.BASELINE)
    fill_kept_tables(url)
    before = contents(url)
    engine = sa.create_engine(url)
    revisions = [script.revision for script in run.scripts().walk_revisions()][::-1]
    assert revisions[0] == run.BASELINE
    with engine.connect() as connection:
        facts = survey(connection)
    assert set(facts) == set(KEPT) and all(fact.rows == 1 for fact in facts.values())
    for revision in revisions[1:]:
        upgrade_to(url, revision)
        with engine.connect() as connection:
            now = survey(connection)
        assert breaches(facts, now, revision) == []
        facts = now
    engine.dispose()
    after = contents(url)
    for name in EVIDENCE + EVENTS:  # old columns first, as they were
        assert [row[: len(before[name][0])] for row in after[name]] == before[name]


BAD_REVISIONS = {
    "drops an events column": (
        "with op.batch_alter_table('ledger_events') as batch:\n        batch.drop_column('key_id')",
        "drops or renames column ledger_events.key_id",
    ),
    "renames an events column": (
        "with op.batch_alter_table('ledger_events') as batch:\n"
        "        batch.alter_column('key_id', new_column_name='signing_key')",
        "drops or renames column ledger_events.key_id",
    ),
    "changes an events column's type": (
        "with op.batch_alter_table('ledger_events') as batch:\n"
        "        batch.alter_column('key_id', type_=sa.String(64))",
        "changes column ledger_events.key_id from VARCHAR(16) NOT NULL to VARCHAR(64) NOT NULL",
    ),
    "deletes evidence rows": (
        "op.execute('DELETE FROM mail_sent')",
        "loses 1 rows of mail_sent",
    ),
    "drops an evidence table": (
        "op.drop_table('inbox_read')",
        "drops table inbox_read",
    ),
}


@pytest.mark.parametrize("bad", sorted(BAD_REVISIONS))
def test_a_revision_that_breaks_a_rule_is_refused_and_changes_nothing(url, tmp_path, bad):
    upgrade, named = BAD_REVISIONS[bad]
    run.migrate(url)
    fill_kept_tables(url)
    schema, rows = describe_url(url), contents(url)
    with pytest.raises(
        MigrationRefused, match=f"revision {SYNTHETIC} " + named.split(" ", 1)[0]
    ) as e:
        run.migrate(url, location_with(tmp_path, upgrade))
    assert named in str(e.value)
    assert state(url).current == HEAD
    assert (describe_url(url), contents(url)) == (schema, rows)


def test_a_revision_that_adds_an_events_column_passes(url, tmp_path):
    run.migrate(url)
    fill_kept_tables(url)
    adds = "op.add_column('ledger_events', sa.Column('schema_note', sa.Text(), nullable=True))"
    before, after = run.migrate(url, location_with(tmp_path, adds))
    assert (before.current, after.current) == (HEAD, SYNTHETIC)
    assert contents(url)["ledger_events"][0][-1] is None


# --- recognising the previous release --------------------------------------------------------


def test_an_empty_database_gets_the_whole_schema_at_the_head(url):
    assert state(url).kind == run.EMPTY
    before, after = run.migrate(url)
    assert (before.kind, after.kind, after.current) == (run.EMPTY, run.CURRENT, HEAD)


@pytest.mark.parametrize(
    "change, named",
    [
        ("ALTER TABLE ledger_events DROP COLUMN key_id", "ledger_events lacks key_id"),
        ("ALTER TABLE ledger_events ADD COLUMN extra TEXT", "ledger_events has extra"),
        ("DROP TABLE ledger_events", "no ledger_events"),
    ],
)
def test_a_database_is_taken_for_the_previous_release_only_by_its_columns(
    sqlite_url, tmp_path, change, named
):
    golden_database(tmp_path, sqlite_url)
    execute(sqlite_url, change)
    schema = describe_url(sqlite_url)
    assert state(sqlite_url).kind == run.UNVERSIONED
    with pytest.raises(MigrationRefused, match=named):
        run.migrate(sqlite_url)
    assert describe_url(sqlite_url) == schema  # nothing made, nothing recorded
    assert state(sqlite_url).kind == run.UNVERSIONED


def test_a_revision_this_release_does_not_know_is_refused(url):
    run.migrate(url)
    execute(url, "UPDATE alembic_version SET version_num = '0099'")
    assert state(url).kind == run.UNKNOWN
    with pytest.raises(MigrationRefused, match="0099, which this release does not know"):
        run.migrate(url)


def test_two_processes_migrating_at_once_migrate_once(url):
    outcomes: list[tuple[run.SchemaState, run.SchemaState]] = []
    threads = [threading.Thread(target=lambda: outcomes.append(run.migrate(url))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(before.kind for before, _ in outcomes) == [run.CURRENT, run.EMPTY]
    assert {after.current for _, after in outcomes} == {HEAD}


# --- start-up ---------------------------------------------------------------------------------


def settings_for(url: str, tmp_path: Path, environment: str = "development") -> Settings:
    return dataclasses.replace(make_settings(tmp_path / "home", url), environment=environment)


def test_an_application_on_an_empty_database_makes_the_schema_outside_production(url, tmp_path):
    open_application(Application, settings_for(url, tmp_path)).close()
    assert state(url).kind == run.CURRENT


def test_in_production_an_empty_database_is_refused_and_left_empty(url, tmp_path):
    with pytest.raises(run.SchemaNotReady, match="no huiyan schema yet.*run huiyan ledger migrate"):
        open_application(Application, settings_for(url, tmp_path, "production"))
    assert state(url).kind == run.EMPTY


@pytest.mark.parametrize("environment", ["development", "production"])
def test_an_application_refuses_a_database_that_is_behind(url, tmp_path, environment):
    upgrade_to(url, run.BASELINE)
    with pytest.raises(run.SchemaNotReady, match="at revision 0001.*run huiyan ledger migrate"):
        open_application(Registration, settings_for(url, tmp_path, environment))
    run.migrate(url)
    open_application(Registration, settings_for(url, tmp_path, environment)).close()


def test_an_application_refuses_the_previous_releases_database(sqlite_url, tmp_path):
    golden_database(tmp_path, sqlite_url)
    with pytest.raises(run.SchemaNotReady, match="release before migrations.*ledger migrate"):
        open_application(Application, settings_for(sqlite_url, tmp_path))
    assert state(sqlite_url).kind == run.UNVERSIONED


@pytest.mark.parametrize(
    "command, status, prefix",
    [
        (["dispatcher", "--once"], 2, "error: "),
        (["read-models", "rebuild"], 2, "error: "),
        (["serve", "--port", "1"], 1, "Error: "),
    ],
)
def test_the_services_refuse_a_database_behind_with_one_line(
    sqlite_url, tmp_path, command, status, prefix
):
    upgrade_to(sqlite_url, run.BASELINE)
    result = huiyan_for(settings_for(sqlite_url, tmp_path), *command)
    assert result.exit_code == status
    assert result.output == (
        f"{prefix}the database is at revision 0001; this release needs revision {HEAD}: "
        "run huiyan ledger migrate\n"
    )
    assert state(sqlite_url).current == "0001"


def test_check_exits_2_on_a_revision_this_release_does_not_know(sqlite_url, tmp_path):
    run.migrate(sqlite_url)
    execute(sqlite_url, "UPDATE alembic_version SET version_num = '0099'")
    result = huiyan_for(settings_for(sqlite_url, tmp_path), "ledger", "migrate", "--check")
    assert result.exit_code == 2
    assert "a newer release migrated it" in result.output


def test_check_creates_no_database(tmp_path):
    missing = tmp_path / "missing.sqlite3"
    settings = settings_for(f"sqlite:///{missing}", tmp_path)
    result = huiyan_for(settings, "ledger", "migrate", "--check")
    assert (result.exit_code, result.output) == (2, f"error: no ledger database at {missing}\n")
    assert not missing.exists()
