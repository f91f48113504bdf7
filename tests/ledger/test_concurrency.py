"""Several writer processes at once: positions stay gapless and the chain and signatures verify."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from ledger.keys import Keyring
from ledger.persistence import ChainingApplicationRecorder, LedgerDatastore
from ledger.read_models import SQLView
from ledger.verify import verify_ledger


def append_many(url: str, keys_dir: str, count: int, barrier) -> None:
    """One writer process: ``count`` single-event transactions."""
    recorder = ChainingApplicationRecorder(
        LedgerDatastore(url=url),
        keyring=Keyring(Path(keys_dir), "test/ledger"),
        events_table_name="ledger_events",
    )
    originator = uuid4()
    barrier.wait()
    for version in range(count):
        recorder.append([StoredEvent(originator, version, "race", b"%d" % version)])
    recorder.datastore.engine.dispose()


def race(url: str, keys_dir: Path, writers: int, appends: int) -> None:
    keyring = Keyring(keys_dir, "test/ledger")
    recorder = ChainingApplicationRecorder(
        LedgerDatastore(url=url),
        keyring=keyring,
        events_table_name="ledger_events",
    )
    recorder.create_table()
    recorder.datastore.engine.dispose()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    processes = [
        context.Process(target=append_many, args=(url, str(keys_dir), appends, barrier))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
        assert process.exitcode == 0


def assert_gapless_and_intact(url: str, keys_dir: Path, expected: int) -> None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        positions = conn.execute(
            sa.text("SELECT position FROM ledger_events ORDER BY id")
        ).scalars()
        assert list(positions) == list(range(expected))
    engine.dispose()
    keys = Keyring(keys_dir, "test/ledger").verifier_keys()
    report = verify_ledger(url, keys, workers=2)
    assert report.problems == []
    assert report.size == expected


@pytest.mark.slow
def test_four_writers_on_postgres(postgres_url, tmp_path):
    race(postgres_url, tmp_path / "keys", writers=4, appends=2_500)
    assert_gapless_and_intact(postgres_url, tmp_path / "keys", 10_000)


def test_four_writers_on_one_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    race(url, tmp_path / "keys", writers=4, appends=300)
    assert_gapless_and_intact(url, tmp_path / "keys", 1_200)


class Notes(SQLView):
    """A read model of one table, enough to race for."""

    def __init__(self, url: str) -> None:
        super().__init__(LedgerDatastore(url=url), tracking_table_name="notes_tracking")
        sa.Table("notes", self.metadata, sa.Column("id", sa.Integer, primary_key=True))


@pytest.mark.parametrize("database", ["postgres_url", "sqlite_url"])
def test_a_read_models_tables_made_by_another_process_at_that_moment_are_no_error(
    database, request, monkeypatch
):
    """Two processes that start together (gunicorn's workers on a fresh instance) both find a
    read model's tables missing; the other one makes them between our look and our CREATE.
    Found by bench/system.py: the loser answered its first request with a 500."""
    url = request.getfixturevalue(database)
    ours, theirs = Notes(url), Notes(url)
    create_all = sa.MetaData.create_all

    def raced(metadata, bind, checkfirst=True, **options):
        monkeypatch.setattr(sa.MetaData, "create_all", create_all)  # only the first look races
        create_all(theirs.metadata, theirs.datastore.engine, checkfirst=True)
        create_all(metadata, bind, checkfirst=False)  # we had looked: nothing was there

    monkeypatch.setattr(sa.MetaData, "create_all", raced)
    ours.create_table()
    assert sa.inspect(ours.datastore.engine).has_table("notes")
    for view in (ours, theirs):
        view.datastore.engine.dispose()
