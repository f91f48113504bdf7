"""E-mail through the mail relay (``HUIYAN_SMTP``): the in-site messages (services/inbox.py),
each to every member of its team, in the team's language; and the outbox, the spool where the
invitations are written (services/intake.invite), each to its one address.

Each is sent once: a row of ``mail_sent``, keyed by the message's id (or the outbox file's
name), is claimed before sending and kept once the relay took it; a relay that refuses gives
the claim back, so the next run tries again. A process that dies between the relay's answer
and the claim's completion leaves the claim ``sending``: that message is not sent again (at
most once; ``huiyan mail send`` reports such claims). Without ``HUIYAN_SMTP`` nothing is sent:
the messages stay in the site and the invitations in the outbox, as before.

Addresses are personal data: each is opened from the person's own sealed contact (the address
they opened their account with), else from their sealed record in the team, when the mail
goes; never stored. Every opening is an entry of the access log.
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import Parser
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Column, MetaData, String, Table, delete, select, update
from sqlalchemy.exc import IntegrityError

from domain.inbox_texts import render
from ledger.tables import create_missing
from ledger.vault import VaultError
from services.desk import Desk
from services.inbox import inbox

SENDING, SENT = "sending", "sent"
MAILER = "mailer"  # who reads the addresses, in the access log


@dataclass
class Outcome:
    """What one run did: keys sent, and the messages that found no address."""

    sent: list[str] = field(default_factory=list)
    unaddressed: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)  # claims a dead run left


class SentLog:
    """``mail_sent``: one row per message handed to the relay (or being handed)."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore
        metadata = MetaData()
        self.rows = Table(
            "mail_sent",
            metadata,
            Column("key", String(200), primary_key=True),
            Column("state", String(16), nullable=False),
            Column("at", String(40), nullable=False),
        )
        create_missing(datastore.engine, [self.rows])

    def keys(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as session:
            return {row.key: row.state for row in session.execute(select(self.rows))}

    def claim(self, key: str, at: str) -> bool:
        """True when this run may send ``key``: nobody claimed it before."""
        try:
            with self.datastore.transaction(commit=True) as session:
                session.execute(self.rows.insert(), dict(key=key, state=SENDING, at=at))
        except IntegrityError:
            return False
        return True

    def done(self, key: str, at: str) -> None:
        with self.datastore.transaction(commit=True) as session:
            session.execute(
                update(self.rows).where(self.rows.c.key == key).values(state=SENT, at=at)
            )

    def release(self, key: str) -> None:
        with self.datastore.transaction(commit=True) as session:
            session.execute(delete(self.rows).where(self.rows.c.key == key))


def send_pending(desk: Desk, *, outbox: Path | None = None) -> Outcome:
    """Every message and outbox file not yet sent, through the relay; nothing without one."""
    outcome = Outcome()
    if desk.settings.smtp is None:
        return outcome
    log = SentLog(desk.app.factory.datastore)  # type: ignore[attr-defined]
    known = log.keys()
    outcome.stuck = sorted(key for key, state in known.items() if state == SENDING)
    host, _, port = desk.settings.smtp.rpartition(":")
    with smtplib.SMTP(host, int(port), timeout=30) as relay:
        for key, mail in _pending(desk, outbox or desk.settings.home / "outbox", known):
            if mail is None:
                outcome.unaddressed.append(key)
                continue
            if not log.claim(key, desk.now.isoformat()):
                continue  # another run took it
            try:
                relay.send_message(mail)
            except smtplib.SMTPException:
                log.release(key)
                raise
            log.done(key, desk.now.isoformat())
            outcome.sent.append(key)
    return outcome


def _pending(
    desk: Desk, outbox: Path, known: dict[str, str]
) -> Iterator[tuple[str, EmailMessage | None]]:
    view = inbox(desk.app)
    for message in view.all_messages():
        key = f"message:{message.id}"
        if key in known:
            continue
        addresses = team_addresses(desk, message.team_id)
        if not addresses:
            yield key, None
            continue
        subject, body = render(message, view.language(message.team_id))
        yield key, _mail(desk, addresses, f"huiyan: {subject}", body, str(message.id))
    for path in sorted(outbox.glob("*.txt")) if outbox.is_dir() else []:
        key = f"outbox:{path.name}"
        if key in known:
            continue
        spooled = Parser().parsestr(path.read_text())
        yield (
            key,
            _mail(desk, [spooled["To"]], spooled["Subject"], spooled.get_payload(), path.stem),
        )


def _mail(desk: Desk, to: list[str], subject: str, body: str, ident: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = desk.settings.mail_from
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(idstring=ident.replace("-", ""), domain="huiyan")
    mail["X-Huiyan-Message"] = ident
    mail.set_content(body)
    return mail


def team_addresses(desk: Desk, team_id: UUID) -> list[str]:
    """The e-mail address of every member of the team that has one (each opening logged)."""
    team = desk.app.team(team_id)
    found: list[str] = []
    for member in team.members:
        address = _address(desk, team_id, member)
        if address and address not in found:
            found.append(address)
    return found


def _address(desk: Desk, team_id: UUID, member: dict[str, Any]) -> str | None:
    account_id = member.get("account_id")
    sealed: list[tuple[UUID, str]] = []
    if account_id is not None:
        person = desk.app.account(account_id).person
        if person:
            sealed.append((account_id, person))
    sealed.append((team_id, member["record"]))
    for subject, digest in sealed:
        try:
            record = json.loads(desk.vault.open_from(desk.blobs, subject, digest))
        except (VaultError, OSError, ValueError, KeyError):
            continue  # shredded or unreadable: no address there
        address = record.get("email") if isinstance(record, dict) else None
        desk.auth.access.record(
            who=MAILER, role="service", action="read.contact", subject=str(subject),
            outcome="ok", origin=desk.origin, at=desk.now,
        )  # fmt: skip
        if address:
            return str(address)
    return None
