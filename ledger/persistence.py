"""huiyan's persistence module for eventsourcing: ``PERSISTENCE_MODULE=ledger.persistence``.

It is eventsourcing-sqlalchemy (SQLite or PostgreSQL, the library's own ``SQLALCHEMY_URL``)
with one difference: in the transaction that inserts events, after the table lock, every event
gets a gapless ``position``, its RFC 9162 leaf hash, the previous entry's chain hash and an
Ed25519 signature (see ledger.entry for the exact bytes). Stored state bytes are untouched.

Every application that uses this module writes to the same events table (``LEDGER_EVENTS_TABLE``,
default ``ledger_events``): the contest has one history, one chain and one Merkle tree, and one
notification log that projections and the dispatcher follow.

Environment (read through the application's environment, so ``<APP>_`` prefixes work too):
``SQLALCHEMY_URL``; ``LEDGER_KEYS_DIR`` (folder of the ledger keys, default
``$HUIYAN_HOME/keys``); ``LEDGER_KEY_NAME`` (the key's name, which is the checkpoint origin);
``LEDGER_KEY_FILE`` (a provisioned PEM private key, used instead of the keys folder);
``LEDGER_EVENTS_TABLE``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment
from eventsourcing_sqlalchemy import factory as sqlalchemy_factory
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.models import StoredEventRecord
from eventsourcing_sqlalchemy.recorders import (
    SQLAlchemyApplicationRecorder,
    SQLAlchemyProcessRecorder,
)
from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, Session

from ledger.entry import GENESIS, Receipt, chain_hash, entry_leaf_hash, signed_message
from ledger.keys import Keyring, SigningKey

DEFAULT_EVENTS_TABLE = "ledger_events"
DEFAULT_KEY_NAME = "huiyan.example/ledger"


class LedgerEventRecord(StoredEventRecord):
    """The stock stored-event row plus the chain columns."""

    __abstract__ = True
    # define_record_class copies table args only from this class's own __dict__: without this
    # line the UNIQUE (originator_id, originator_version) index, and with it optimistic
    # concurrency, would silently disappear.
    __table_args__ = StoredEventRecord.__dict__["__table_args__"]

    position: Mapped[int] = Column(
        BigInteger().with_variant(Integer(), "sqlite"), nullable=False, unique=True
    )
    leaf_hash: Mapped[bytes] = Column(LargeBinary(32), nullable=False)
    prev_hash: Mapped[bytes] = Column(LargeBinary(32), nullable=False)
    key_id: Mapped[str] = Column(String(16), nullable=False)
    signature: Mapped[bytes] = Column(LargeBinary(64), nullable=False)


class LedgerDatastore(SQLAlchemyDatastore):
    base_stored_event_record_cls = LedgerEventRecord
    record_classes: dict = {}  # our own cache: never mix with the stock record classes

    def __init__(self, *, url: str | None = None, **kwargs: Any) -> None:
        if url and url.startswith("sqlite") and ":memory:" not in url:
            # Several processes may write one SQLite file; wait for the lock, do not fail.
            kwargs.setdefault("connect_args", {"timeout": 60})
        super().__init__(url=url, **kwargs)

    def init_sqlite_wal_mode(self) -> None:
        """Switch a SQLite file to WAL only when it is not in WAL yet.

        The library asks for ``PRAGMA journal_mode=WAL`` in every new process; that statement
        needs the file to itself and fails with "database is locked" while another process
        writes. Reading the mode first needs no lock, and WAL, once set, stays with the file.
        """
        self._tried_init_sqlite_wal_mode = True
        if not self.is_sqlite_filedb or self.is_sqlite_wal_mode:
            return
        assert self.engine is not None
        with self._wal_mode_lock, self.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            if mode != "wal":
                mode = connection.exec_driver_sql("PRAGMA journal_mode=WAL").scalar()
            self.is_sqlite_wal_mode = mode == "wal"


class Head(NamedTuple):
    """Where the next entry goes: its position and the chain hash it links to."""

    next_position: int
    chain: bytes


EMPTY_HEAD = Head(0, GENESIS)


class ChainingRecorderMixin:
    """Gives each inserted event its position, leaf hash, chain link and signature."""

    events_table_name: str
    datastore: SQLAlchemyDatastore

    def _init_chain(self, signing_key: SigningKey) -> None:
        self.signing_key = signing_key
        self.key_id = signing_key.key_id
        assert self.datastore.engine is not None
        self._is_sqlite = self.datastore.engine.dialect.name == "sqlite"
        self._head_sql = (
            f"SELECT position, prev_hash, leaf_hash FROM {self.events_table_name} "
            "ORDER BY position DESC LIMIT 1"
        )
        # The head this recorder expects to find under the lock. Only a guess: it lets us sign
        # before taking the lock; a wrong guess (another writer, a rollback) means re-signing.
        self._expected_head: Head | None = None

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]
        # Put a new SQLite file in WAL now, before several processes start writing to it.
        self.datastore.init_sqlite_wal_mode()

    def append(self, stored_events: Sequence[StoredEvent]) -> list[Receipt]:
        """Insert events in one transaction and return their receipts."""
        with self.datastore.transaction(commit=True) as session:
            return self._append(session, stored_events)

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        return [receipt.notification_id for receipt in self._append(session, stored_events)]

    def _append(self, session: Session, stored_events: Sequence[StoredEvent]) -> list[Receipt]:
        if not stored_events:  # e.g. a process application recording only its tracking
            return []
        expected = self._expected_head
        rows = self._link(stored_events, expected) if expected else None
        head = self._lock_and_read_head(session)
        if head != expected:
            rows = self._link(stored_events, head)
        assert rows is not None
        table = self.events_record_cls.__table__  # type: ignore[attr-defined]
        key_id = self.key_id
        # A Core multi-row insert: the ORM's unit of work would cost more than the chain adds.
        result = session.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True),
            [
                {
                    "originator_id": event.originator_id,
                    "originator_version": event.originator_version,
                    "topic": event.topic,
                    "state": event.state,
                    "position": position,
                    "leaf_hash": leaf,
                    "prev_hash": prev,
                    "key_id": key_id,
                    "signature": signature,
                }
                for event, (position, leaf, prev, signature) in zip(
                    stored_events, rows, strict=True
                )
            ],
        )
        notification_ids = result.scalars().all()
        self._notify_channel(session)  # type: ignore[attr-defined]
        if rows:
            _, last_leaf, last_prev, _ = rows[-1]
            self._expected_head = Head(
                head.next_position + len(rows), chain_hash(last_prev, last_leaf)
            )
        return [
            Receipt(position, notification_id, leaf, prev, key_id, signature)
            for notification_id, (position, leaf, prev, signature) in zip(
                notification_ids, rows, strict=True
            )
        ]

    def _link(
        self, stored_events: Sequence[StoredEvent], head: Head
    ) -> list[tuple[int, bytes, bytes, bytes]]:
        rows = []
        prev = head.chain
        for offset, event in enumerate(stored_events):
            position = head.next_position + offset
            originator_id = event.originator_id
            if not isinstance(originator_id, UUID):
                originator_id = UUID(str(originator_id))
            leaf = entry_leaf_hash(
                position, originator_id, event.originator_version, event.topic, event.state
            )
            signature = self.signing_key.sign(signed_message(leaf, prev))
            rows.append((position, leaf, prev, signature))
            prev = chain_hash(prev, leaf)
        return rows

    def _lock_and_read_head(self, session: Session) -> Head:
        """Take the table lock, then read the chain head: the hottest lines of a write, so
        they talk to the driver directly (SQLAlchemy's layers cost more than the SQL here)."""
        self._lock_table(session)  # type: ignore[attr-defined]  # PostgreSQL: LOCK TABLE
        driver_connection = session.connection().connection.dbapi_connection
        assert driver_connection is not None
        cursor = driver_connection.cursor()
        try:
            if self._is_sqlite and not driver_connection.in_transaction:  # type: ignore[attr-defined]
                # pysqlite begins a (deferred) transaction only at the first write, so the
                # head read below would race with other processes: take the write lock now,
                # unless an earlier write in this transaction (a tracking record) holds it.
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(self._head_sql)
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return EMPTY_HEAD
        position, prev, leaf = row
        return Head(position + 1, chain_hash(bytes(prev), bytes(leaf)))


class ChainingApplicationRecorder(ChainingRecorderMixin, SQLAlchemyApplicationRecorder):
    def __init__(self, datastore: SQLAlchemyDatastore, *, signing_key: SigningKey, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self._init_chain(signing_key)


class ChainingProcessRecorder(ChainingRecorderMixin, SQLAlchemyProcessRecorder):
    def __init__(self, datastore: SQLAlchemyDatastore, *, signing_key: SigningKey, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self._init_chain(signing_key)


def keyring_from_env(env: Environment | dict[str, str]) -> Keyring:
    keys_dir = env.get("LEDGER_KEYS_DIR") or str(
        Path(env.get("HUIYAN_HOME") or os.environ.get("HUIYAN_HOME", "./instance")) / "keys"
    )
    key_file = env.get("LEDGER_KEY_FILE")
    return Keyring(
        Path(keys_dir),
        env.get("LEDGER_KEY_NAME") or DEFAULT_KEY_NAME,
        Path(key_file) if key_file else None,
    )


class LedgerFactory(sqlalchemy_factory.SQLAlchemyFactory):
    datastore_class = LedgerDatastore
    application_recorder_class = ChainingApplicationRecorder
    process_recorder_class = ChainingProcessRecorder

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self.events_table_name = self.env.get("LEDGER_EVENTS_TABLE") or DEFAULT_EVENTS_TABLE
        self.signing_key = keyring_from_env(self.env).signing_key()

    def application_recorder(self) -> ChainingApplicationRecorder:
        recorder = self.application_recorder_class(
            datastore=self.datastore,
            signing_key=self.signing_key,
            events_table_name=self.events_table_name,
            schema_name=self._schema_name,
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def process_recorder(self) -> ChainingProcessRecorder:
        prefix = self.env.name.lower() or "notification"
        recorder = self.process_recorder_class(
            datastore=self.datastore,
            signing_key=self.signing_key,
            events_table_name=self.events_table_name,
            tracking_table_name=f"{prefix}_tracking",
            schema_name=self._schema_name,
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder
