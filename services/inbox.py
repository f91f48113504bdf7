"""The in-site messages in SQL (domain/inbox.py): tables ``inbox_teams``, ``inbox_subjects`` and
``inbox_messages`` with their position in ``inbox_tracking``, all dropped and rebuilt with the
other read models; and ``inbox_read``, which is not derived from the ledger (who opened which
message, when) and so survives a rebuild, the message ids being derived from the events.

``inbox(app)`` gives the messages caught up to the ledger's head.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    select,
)

from domain.inbox import DEFAULT_LANGUAGE, Inbox, InboxView, Message, Subject
from ledger.read_models import SQLView, catch_up

TRACKING_TABLE = "inbox_tracking"
_ID = BigInteger().with_variant(Integer(), "sqlite")


class SQLInbox(SQLView, InboxView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", TRACKING_TABLE)
        super().__init__(datastore, **kwargs)
        self.team_rows = Table(
            "inbox_teams",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),
            Column("contest_id", Uuid, nullable=False),
            Column("language", String(16)),
            Index("inbox_teams_contest", "contest_id", "seq"),
        )
        self.subject_rows = Table(
            "inbox_subjects",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),
            Column("team_id", Uuid),
            Column("contest_id", Uuid),
            Column("track", Integer),
            Column("item", String(32)),
            Index("inbox_subjects_track", "contest_id", "track", "seq"),
        )
        self.message_rows = Table(
            "inbox_messages",
            self.metadata,
            Column("id", Uuid, primary_key=True),
            Column("seq", _ID, nullable=False),
            Column("team_id", Uuid, nullable=False),
            Column("kind", String(32), nullable=False),
            Column("facts", Text, nullable=False),  # JSON
            Column("at", String(40), nullable=False),  # ISO 8601 with its offset
            Index("inbox_messages_team", "team_id", "seq"),
        )
        # Not derived from the ledger: kept apart, so that a rebuild leaves it alone.
        self.kept = MetaData()
        self.read_rows = Table(
            "inbox_read",
            self.kept,
            Column("account_id", Uuid, nullable=False),
            Column("message_id", Uuid, nullable=False),
            Column("at", String(40), nullable=False),
            PrimaryKeyConstraint("account_id", "message_id"),
        )

    def own_tables(self) -> list[Table]:
        return [*super().own_tables(), *self.kept.sorted_tables]

    # --- writing ----------------------------------------------------------------------------

    def add_team(
        self, team_id: UUID, contest_id: UUID, language: str | None, tracking: Tracking
    ) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self.team_rows.insert(),
                dict(id=team_id, seq=tracking.notification_id, contest_id=contest_id,
                     language=language),
            )  # fmt: skip

    def change_language(self, team_id: UUID, language: str, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            self.update_row(session, self.team_rows, team_id, {"language": language})

    def add_subject(self, subject: Subject, tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self.subject_rows.insert(),
                dict(id=subject.id, seq=tracking.notification_id, team_id=subject.team_id,
                     contest_id=subject.contest_id, track=subject.track, item=subject.item),
            )  # fmt: skip

    def subject(self, ident: UUID) -> Subject | None:
        table = self.subject_rows
        with self.transaction(commit=False) as session:
            row = session.execute(select(table).where(table.c.id == ident)).first()
        if row is None:
            return None
        return Subject(row.id, row.team_id, row.contest_id, row.track, row.item)

    def teams_of(self, contest_id: UUID) -> list[UUID]:
        table = self.team_rows
        query = select(table.c.id).where(table.c.contest_id == contest_id).order_by(table.c.seq)
        with self.transaction(commit=False) as session:
            return list(session.execute(query).scalars())

    def teams_in_track(self, contest_id: UUID, track: int) -> list[UUID]:
        table = self.subject_rows
        query = (
            select(table.c.team_id, func.min(table.c.seq).label("first"))
            .where(table.c.contest_id == contest_id, table.c.track == track)
            .where(table.c.team_id.is_not(None), table.c.item.is_(None))
            .group_by(table.c.team_id)
            .order_by("first")
        )
        with self.transaction(commit=False) as session:
            return [row.team_id for row in session.execute(query)]

    def add_messages(self, messages: list[Message], tracking: Tracking) -> None:
        with self.writing(tracking) as session:
            session.execute(
                self.message_rows.insert(),
                [
                    dict(id=m.id, seq=m.seq, team_id=m.team_id, kind=m.kind,
                         facts=json.dumps(m.facts, ensure_ascii=False), at=m.at.isoformat())
                    for m in messages
                ],
            )  # fmt: skip

    def skip(self, tracking: Tracking) -> None:
        self.track(tracking)

    # --- reading ----------------------------------------------------------------------------

    def messages(self, team_id: UUID) -> list[Message]:
        table = self.message_rows
        query = select(table).where(table.c.team_id == team_id).order_by(table.c.seq.desc())
        return self._messages(query)

    def message(self, ident: UUID) -> Message | None:
        found = self._messages(select(self.message_rows).where(self.message_rows.c.id == ident))
        return found[0] if found else None

    def all_messages(self) -> list[Message]:
        return self._messages(select(self.message_rows).order_by(self.message_rows.c.seq))

    def _messages(self, query: Any) -> list[Message]:
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return [
            Message(row.id, row.team_id, row.kind, json.loads(row.facts),
                    datetime.fromisoformat(row.at), row.seq)
            for row in rows
        ]  # fmt: skip

    def language(self, team_id: UUID) -> str:
        table = self.team_rows
        with self.transaction(commit=False) as session:
            found = session.execute(select(table.c.language).where(table.c.id == team_id)).scalar()
        return found or DEFAULT_LANGUAGE

    # --- who read what ---------------------------------------------------------------------

    def read_by(self, account_id: UUID) -> set[UUID]:
        table = self.read_rows
        with self.transaction(commit=False) as session:
            query = select(table.c.message_id).where(table.c.account_id == account_id)
            return set(session.execute(query).scalars())

    def mark_read(self, account_id: UUID, message_id: UUID, at: datetime) -> None:
        """Once: the first opening is kept."""
        table = self.read_rows
        with self.datastore.transaction(commit=True) as session:
            found = session.execute(
                select(table.c.at).where(
                    table.c.account_id == account_id, table.c.message_id == message_id
                )
            ).first()
            if found is None:
                session.execute(
                    table.insert(),
                    dict(account_id=account_id, message_id=message_id, at=at.isoformat()),
                )

    def unread(self, account_id: UUID, team_id: UUID | None) -> int:
        if team_id is None:
            return 0
        messages, read = self.message_rows, self.read_rows
        opened = select(read.c.message_id).where(read.c.account_id == account_id)
        query = (
            select(func.count())
            .select_from(messages)
            .where(messages.c.team_id == team_id, messages.c.id.not_in(opened))
        )
        with self.transaction(commit=False) as session:
            return int(session.execute(query).scalar_one())


def open_inbox(app: Application) -> Inbox:
    """The inbox projection over the database ``app`` writes to, its tables created."""
    view = SQLInbox(app.factory.datastore)  # type: ignore[attr-defined]
    view.create_table()
    return Inbox(view)


def caught_up(projection: Inbox, app: Application) -> SQLInbox:
    catch_up(projection, app)
    return projection.view  # type: ignore[return-value]


def inbox(app: Application) -> SQLInbox:
    """The messages, caught up to the ledger's head: read them right after."""
    return caught_up(open_inbox(app), app)
