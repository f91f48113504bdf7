"""huiyan's persistence module for eventsourcing: ``PERSISTENCE_MODULE=ledger.persistence``.

It is eventsourcing-sqlalchemy (SQLite or PostgreSQL, the library's own ``SQLALCHEMY_URL``)
with one difference: in the transaction that inserts events, after the table lock, every event
gets a gapless ``position``, its RFC 9162 leaf hash, the previous entry's chain hash and an
Ed25519 signature (see ledger.entry for the exact bytes). Stored state bytes are untouched.

Every application that uses this module writes to the same events table (``LEDGER_EVENTS_TABLE``,
default ``ledger_events``): the contest has one history, one chain and one Merkle tree, and one
notification log that projections and the dispatcher follow.

The recorder signs only with the key that signed the ledger's head, which it reads under the
same lock it appends under: after a rotation by another process it switches to the new key
(when this instance holds it) or refuses, and so it never signs with a retired key. The one
exception is the handover event itself, the first entry the incoming key signs.

Environment (read through the application's environment, so ``<APP>_`` prefixes work too),
all set from the one settings object by ``ledger.application.open_application``:
``SQLALCHEMY_URL``; ``LEDGER_KEYS_DIR`` (folder of the ledger keys); ``LEDGER_KEY_NAME`` (the
key's name, which is the checkpoint origin); ``LEDGER_KEY_FILE`` (a provisioned PEM private
key, used instead of the keys folder); ``LEDGER_EVENTS_TABLE``; and, for the handover only,
``LEDGER_HANDOVER_FROM`` / ``LEDGER_HANDOVER_TO`` (outgoing and incoming key ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import AggregateRecorder, StoredEvent
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
from ledger.keys import Keyring, LedgerKeyError, SigningKey
from ledger.settings import EVENTS_TABLE

DEFAULT_KEY_NAME = "huiyan.example/ledger"


class RetiredKeyError(LedgerKeyError):
    """This process's key is not the ledger's key any more, and it does not hold the new one."""


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
    """Where the next entry goes: its position, the chain hash it links to, and the key that
    signed the entry before (None for an empty ledger)."""

    next_position: int
    chain: bytes
    key_id: str | None


EMPTY_HEAD = Head(0, GENESIS, None)


class ChainingRecorderMixin:
    """Gives each inserted event its position, leaf hash, chain link and signature."""

    events_table_name: str
    datastore: SQLAlchemyDatastore
    signing_key: SigningKey

    def _init_chain(self, keyring: Keyring, handover: tuple[str, str] | None = None) -> None:
        """``handover``: (outgoing, incoming) key ids, when this recorder is to append the
        handover event, signed by the incoming key over a head the outgoing key signed."""
        self._keyring = keyring
        self._handover_from: str | None = None
        if handover is None:
            self.signing_key = keyring.signing_key()
        else:
            self._handover_from, incoming = handover
            key = keyring.private_key(incoming)
            if key is None:
                raise LedgerKeyError(f"no private key {incoming} for the handover")
            self.signing_key = key
        assert self.datastore.engine is not None
        self._is_sqlite = self.datastore.engine.dialect.name == "sqlite"
        self._head_sql = (
            f"SELECT position, prev_hash, leaf_hash, key_id FROM {self.events_table_name} "
            "ORDER BY position DESC LIMIT 1"
        )
        # The head this recorder expects to find under the lock. Only a guess: it lets us sign
        # before taking the lock; a wrong guess (another writer, a rollback) means re-signing.
        self._expected_head: Head | None = None

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]
        # Put a new SQLite file in WAL now, before several processes start writing to it.
        self.datastore.init_sqlite_wal_mode()
        # The notification log read by topic (an aggregate kind's ids, a projection's events)
        # walks this index instead of the whole log; idempotent, built once on an old ledger.
        engine = self.datastore.engine
        assert engine is not None
        quote = engine.dialect.identifier_preparer.quote
        table = self.events_table_name
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"CREATE INDEX IF NOT EXISTS {quote(table + '_topic_id')} "
                    f"ON {quote(table)} (topic, id)"
                )
            )

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
        if self._follow_head_key(head) or head != expected:
            rows = self._link(stored_events, head)
        assert rows is not None
        table = self.events_record_cls.__table__  # type: ignore[attr-defined]
        key_id = self.signing_key.key_id
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
                head.next_position + len(rows), chain_hash(last_prev, last_leaf), key_id
            )
        return [
            Receipt(position, notification_id, leaf, prev, key_id, signature)
            for notification_id, (position, leaf, prev, signature) in zip(
                notification_ids, rows, strict=True
            )
        ]

    def _follow_head_key(self, head: Head) -> bool:
        """Make sure we sign with the ledger's key (the head's); True when it changed.

        Called under the table lock, so a rotation cannot slip in between this check and the
        insert. The head's ``key_id`` column is not signed: editing it can only make writers
        refuse, never make them sign with a key they should not.
        """
        if head.key_id is None or head.key_id == self.signing_key.key_id:
            return False
        if self._handover_from is not None:
            if head.key_id == self._handover_from:
                return False  # the handover event: the incoming key takes over here
            raise RetiredKeyError(
                f"the ledger is signed by key {head.key_id} now, not by the outgoing key "
                f"{self._handover_from}: another key change came first"
            )
        successor = self._keyring.private_key(head.key_id)
        if successor is None:
            raise RetiredKeyError(
                f"the ledger is signed by key {head.key_id} now; this process's key "
                f"{self.signing_key.key_id} is retired and it does not hold the new one: "
                "restart it with the ledger's current key"
            )
        self.signing_key = successor
        return True

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
        position, prev, leaf, key_id = row
        return Head(position + 1, chain_hash(bytes(prev), bytes(leaf)), key_id)


class ChainingApplicationRecorder(ChainingRecorderMixin, SQLAlchemyApplicationRecorder):
    def __init__(
        self,
        datastore: SQLAlchemyDatastore,
        *,
        keyring: Keyring,
        handover: tuple[str, str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(datastore, **kwargs)
        self._init_chain(keyring, handover)


class ChainingAggregateRecorder(ChainingApplicationRecorder):
    """The recorder ``aggregate_recorder("events")`` gives: the same chain, the same table
    (an event stored outside the chain would be an unsigned back door), with the aggregate
    recorder's contract of returning nothing from ``insert_events``."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super().insert_events(stored_events, **kwargs)


class ChainingProcessRecorder(ChainingRecorderMixin, SQLAlchemyProcessRecorder):
    def __init__(
        self,
        datastore: SQLAlchemyDatastore,
        *,
        keyring: Keyring,
        handover: tuple[str, str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(datastore, **kwargs)
        self._init_chain(keyring, handover)


def keyring_from_env(env: Environment | dict[str, str]) -> Keyring:
    """The keyring the library's environment names; nothing is read from ``os.environ``."""
    keys_dir, key_file = env.get("LEDGER_KEYS_DIR"), env.get("LEDGER_KEY_FILE")
    if not keys_dir and not key_file:
        raise LedgerKeyError(
            "PERSISTENCE_MODULE=ledger.persistence needs LEDGER_KEYS_DIR or LEDGER_KEY_FILE "
            "(ledger.application.open_application sets them from the settings)"
        )
    return Keyring(
        Path(keys_dir or "."),
        env.get("LEDGER_KEY_NAME") or DEFAULT_KEY_NAME,
        Path(key_file) if key_file else None,
    )


class LedgerFactory(sqlalchemy_factory.SQLAlchemyFactory):
    datastore_class = LedgerDatastore
    application_recorder_class = ChainingApplicationRecorder
    process_recorder_class = ChainingProcessRecorder

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self.events_table_name = self.env.get("LEDGER_EVENTS_TABLE") or EVENTS_TABLE
        self.keyring = keyring_from_env(self.env)
        outgoing = self.env.get("LEDGER_HANDOVER_FROM")
        incoming = self.env.get("LEDGER_HANDOVER_TO")
        self.handover = (outgoing, incoming) if outgoing and incoming else None

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        """Snapshots are an unsigned cache in their own table (the library's own recorder);
        events always go through the chain."""
        if purpose != "events":
            return super().aggregate_recorder(purpose)
        return self._chaining(ChainingAggregateRecorder)

    def application_recorder(self) -> ChainingApplicationRecorder:
        return self._chaining(self.application_recorder_class)

    def _chaining(self, recorder_class: type[ChainingApplicationRecorder]) -> Any:
        recorder = recorder_class(
            datastore=self.datastore,
            keyring=self.keyring,
            handover=self.handover,
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
            keyring=self.keyring,
            handover=self.handover,
            events_table_name=self.events_table_name,
            tracking_table_name=f"{prefix}_tracking",
            schema_name=self._schema_name,
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder
