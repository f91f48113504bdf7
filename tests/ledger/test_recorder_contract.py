"""The eventsourcing library's own recorder contract, run against huiyan's chaining recorders.

If adding the chain broke anything the library promises (byte-exact state, optimistic
concurrency through the unique (originator_id, originator_version) index, contiguous and
non-interleaving notification ids, tracking), these inherited tests fail.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
)

from ledger.keys import Keyring
from ledger.persistence import (
    ChainingApplicationRecorder,
    ChainingProcessRecorder,
    LedgerDatastore,
)
from tests.support import create_postgres_database, drop_postgres_database


class _Database:
    """A fresh database per test: a temp SQLite file, or a new PostgreSQL database."""

    postgres = False

    def setUp(self) -> None:
        super().setUp()
        self._tmp = tempfile.TemporaryDirectory()
        if self.postgres:
            self.url = create_postgres_database()
        else:
            self.url = f"sqlite:///{Path(self._tmp.name) / 'ledger.sqlite3'}"
        self.keyring = Keyring(Path(self._tmp.name) / "keys", "test/ledger")
        self.datastores: list[LedgerDatastore] = []

    def tearDown(self) -> None:
        for datastore in self.datastores:
            datastore.engine.dispose()
        if self.postgres:
            drop_postgres_database(self.url)
        self._tmp.cleanup()
        super().tearDown()

    def _datastore(self) -> LedgerDatastore:
        datastore = LedgerDatastore(url=self.url)
        self.datastores.append(datastore)
        return datastore

    def create_recorder(self):
        recorder = ChainingApplicationRecorder(
            self._datastore(), keyring=self.keyring, events_table_name="ledger_events"
        )
        recorder.create_table()
        return recorder


class _ProcessDatabase(_Database):
    def create_recorder(self):
        recorder = ChainingProcessRecorder(
            self._datastore(),
            keyring=self.keyring,
            events_table_name="ledger_events",
            tracking_table_name="test_tracking",
        )
        recorder.create_table()
        return recorder


class _FactoryDatabase(_Database):
    """The recorder the persistence module's factory gives for ``aggregate_recorder()``."""

    def create_recorder(self):
        from eventsourcing.utils import Environment

        from ledger.persistence import ChainingAggregateRecorder, LedgerFactory

        factory = LedgerFactory(
            Environment(
                env={
                    "SQLALCHEMY_URL": self.url,
                    "LEDGER_KEYS_DIR": str(self.keyring.folder),
                    "LEDGER_KEY_NAME": "test/ledger",
                }
            )
        )
        self.datastores.append(factory.datastore)
        recorder = factory.aggregate_recorder()
        assert isinstance(recorder, ChainingAggregateRecorder)
        return recorder


class TestAggregateRecorderSQLite(_FactoryDatabase, AggregateRecorderTestCase):
    pass


class TestAggregateRecorderPostgres(_FactoryDatabase, AggregateRecorderTestCase):
    postgres = True


class TestApplicationRecorderSQLite(_Database, ApplicationRecorderTestCase):
    pass


class TestApplicationRecorderPostgres(_Database, ApplicationRecorderTestCase):
    postgres = True


class TestNonInterleavingSQLite(_Database, NonInterleavingNotificationIDsBaseCase):
    pass


class TestNonInterleavingPostgres(_Database, NonInterleavingNotificationIDsBaseCase):
    postgres = True


class TestProcessRecorderSQLite(_ProcessDatabase, ProcessRecorderTestCase):
    pass


class TestProcessRecorderPostgres(_ProcessDatabase, ProcessRecorderTestCase):
    postgres = True


del (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
)
