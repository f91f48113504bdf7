"""Every link between consecutive positions is checked exactly once, however the work is cut.

Verify splits the positions into ranges that worker processes check apart. A gap or a broken
link at the edge of a range must be found whatever the range size, the number of workers and
whether the work runs serially (few rows) or in parallel.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from ledger.keys import Keyring
from ledger.persistence import ChainingApplicationRecorder, LedgerDatastore
from ledger.verify import verify_ledger
from tests.ledger.attack import EVENTS

CHUNK = 64
SIZE = 4 * CHUNK + 13  # four full ranges and a partial one
BOUNDARIES = [CHUNK * n for n in range(1, 5)]
AROUND = sorted({b + d for b in BOUNDARIES for d in (-2, -1, 0, 1)})
# (workers, serial_below): one worker; two in parallel; two, but few enough rows for serial.
MODES = [(1, 0), (2, 0), (2, 10**9)]


def build(url: str, keys_dir: Path, size: int) -> Keyring:
    keyring = Keyring(keys_dir, "test/ledger")
    recorder = ChainingApplicationRecorder(
        LedgerDatastore(url=url), keyring=keyring, events_table_name=EVENTS
    )
    recorder.create_table()
    for start in range(0, size, 500):
        count = min(500, size - start)
        recorder.append([StoredEvent(uuid4(), 1, "t", b"x%d" % n) for n in range(count)])
    recorder.datastore.engine.dispose()
    return keyring


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Keyring]:
    folder = tmp_path_factory.mktemp("chunks")
    path = folder / "ledger.sqlite3"
    keyring = build(f"sqlite:///{path}", folder / "keys", SIZE)
    return path, keyring


@pytest.fixture
def copy(pristine, tmp_path):
    path, keyring = pristine
    target = tmp_path / "ledger.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    shutil.copy(path, target)
    return f"sqlite:///{target}", keyring.verifier_keys()


def sql(url: str, statement: str, **params) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


@pytest.mark.parametrize("position", AROUND)
def test_a_deleted_row_at_any_range_edge_is_found(copy, position):
    url, keys = copy
    sql(url, f"DELETE FROM {EVENTS} WHERE position = :p", p=position)
    for workers, serial_below in MODES:
        report = verify_ledger(url, keys, workers=workers, chunk=CHUNK, serial_below=serial_below)
        assert [(p.position, p.kind) for p in report.problems] == [(position, "deleted")], (
            workers,
            serial_below,
        )


@pytest.mark.parametrize("position", AROUND)
def test_a_broken_link_at_any_range_edge_is_found_without_signatures(copy, position):
    """With signatures off only the link check can see a changed prev_hash."""
    url, keys = copy
    sql(url, f"UPDATE {EVENTS} SET prev_hash = :h WHERE position = :p", h=bytes(32), p=position)
    for workers, serial_below in MODES:
        report = verify_ledger(
            url, keys, workers=workers, chunk=CHUNK, serial_below=serial_below, signatures=False
        )
        assert [(p.position, p.kind) for p in report.problems] == [(position, "modified")]


def test_the_same_root_whatever_the_cut(copy):
    url, keys = copy
    roots = {
        verify_ledger(url, keys, workers=w, chunk=c, serial_below=s).root_hash
        for c in (1, 16, CHUNK, 4096)
        for w, s in MODES
    }
    assert len(roots) == 1


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_reported_case_a_row_deleted_before_the_first_range_ends(
    database, request, tmp_path, cli
):
    """4,153 entries, position 4,095 deleted: once reported intact (exit 0)."""
    from tests.ledger.history import make_settings

    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    settings = make_settings(tmp_path / "home", url)
    build(url, settings.keys_dir, 4_153)
    sql(url, f"DELETE FROM {EVENTS} WHERE position = 4095")
    result = cli(settings, "ledger", "verify")
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "NOT INTACT: first bad position 4095",
        "  position 4095: deleted: position 4095 is missing",
    ]
