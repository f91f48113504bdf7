"""Checking every personal signature in the ledger offline, from the rows alone.

The public keys come from the ledger itself: an event whose state carries
``personal_public_key`` enrols that key for its aggregate (the account), from that position on,
until the account's next key. A signature is good when the key it names was the signer's key
in force at the signed event's position, and it signs exactly that event
(:func:`domain.signatures.check`). The ledger's own signatures and chain are checked by
``ledger.verify``; a row whose state was edited is reported there as ``modified`` and here too
when it held a personal signature.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

from domain.accounts import key_id_of
from domain.errors import SignatureInvalid
from domain.signatures import FIELD, Manifest, check
from ledger.application import LedgerTranscoder
from ledger.report import PERSONAL_SIGNATURE, Problem

_PAGE = 2000
_KEY_FIELD = "personal_public_key"


def _transcoder() -> LedgerTranscoder:
    transcoder = LedgerTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


@dataclass(frozen=True)
class SignedEvent:
    position: int
    topic: str
    originator_id: UUID
    originator_version: int
    state: dict[str, Any]


@dataclass
class KeyBook:
    """Each account's personal keys, by the position from which each is in force."""

    starts: dict[UUID, list[int]] = field(default_factory=dict)
    keys: dict[UUID, list[str]] = field(default_factory=dict)

    def enrol(self, account: UUID, position: int, public_key: str) -> None:
        self.starts.setdefault(account, []).append(position)
        self.keys.setdefault(account, []).append(public_key)

    def in_force(self, account: UUID, position: int) -> str | None:
        starts = self.starts.get(account, [])
        index = bisect.bisect_left(starts, position) - 1
        return self.keys[account][index] if index >= 0 else None


def decoded_state(state: bytes) -> dict[str, Any]:
    """An entry's recorded event state, decoded as the ledger wrote it."""
    return _transcoder().decode(bytes(state))


def personal_events(url: str, table: str) -> Iterator[SignedEvent]:
    """The events that enrol a personal key or carry a personal signature, in ledger order.
    Only rows whose bytes mention either field are decoded."""
    transcoder = _transcoder()
    engine = sa.create_engine(url)
    query = sa.text(
        f"SELECT position, originator_id, originator_version, topic, state FROM {table} "
        "WHERE position >= :start ORDER BY position LIMIT :page"
    )
    try:
        with engine.connect() as conn:
            start = 0
            while True:
                rows = conn.execute(query, {"start": start, "page": _PAGE}).all()
                for position, originator, version, topic, state in rows:
                    if b'"personal_' not in bytes(state):
                        continue
                    if not isinstance(originator, UUID):
                        originator = UUID(bytes=bytes(originator))
                    try:
                        decoded = transcoder.decode(bytes(state))
                    except (ValueError, TypeError, KeyError):
                        decoded = {FIELD: "undecodable"}
                    yield SignedEvent(position, topic, originator, version, decoded)
                if len(rows) < _PAGE:
                    return
                start = rows[-1][0] + 1
    finally:
        engine.dispose()


def check_event(event: SignedEvent, book: KeyBook) -> Manifest:
    """The event's manifest when its signature is good; SignatureInvalid says why not."""
    record = event.state.get(FIELD)
    if record is None:
        # The field exists only in decisions recorded since signatures became mandatory
        # (older ones lack it): an empty one was written past the desk.
        raise SignatureInvalid(why="the decision was recorded without its maker's signature")
    manifest = Manifest.from_record(record.get("manifest") if isinstance(record, dict) else None)
    try:
        signer = UUID(manifest.signer)
    except (ValueError, TypeError, AttributeError):
        raise SignatureInvalid(why="the signer is not an account id") from None
    public_key = book.in_force(signer, event.position)
    if public_key is None:
        raise SignatureInvalid(why="the signer had no personal key at that position")
    try:
        recorded_key_id = key_id_of(public_key)
    except ValueError:
        raise SignatureInvalid(why="the signer's recorded public key is malformed") from None
    if manifest.key_id != recorded_key_id:
        raise SignatureInvalid(why="it names a key that was not the signer's key then")
    return check(
        record,
        topic=event.topic,
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        state=event.state,
        public_key=public_key,
    )


def signed_events(url: str, table: str) -> Iterator[tuple[SignedEvent, KeyBook]]:
    """Every decision that must carry a personal signature (empty or not), with the keys
    known before it."""
    book = KeyBook()
    for event in personal_events(url, table):
        public_key = event.state.get(_KEY_FIELD)
        if isinstance(public_key, str):
            book.enrol(event.originator_id, event.position, public_key)
        if FIELD in event.state:
            yield event, book


def personal_signature_problems(url: str, table: str) -> list[Problem]:
    problems = []
    for event, book in signed_events(url, table):
        try:
            check_event(event, book)
        except SignatureInvalid as error:
            problems.append(Problem(event.position, PERSONAL_SIGNATURE, error.message("en")))
    return problems


def verify_one(url: str, table: str, position: int) -> Manifest:
    """The manifest of the personal signature at ``position``, checked; LookupError when
    that entry carries none."""
    for event, book in signed_events(url, table):
        if event.position == position:
            return check_event(event, book)
        if event.position > position:
            break
    raise LookupError(f"the entry at position {position} carries no personal signature")
