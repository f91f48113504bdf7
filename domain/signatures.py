"""Personal signatures with meaning (21 CFR Part 11 as the model: §11.50 the manifestation,
§11.70 the link to the record, §11.200 two components).

A decision event carries ``personal_signature = {"manifest": ..., "signature": hex}``. The
manifest says who (account id, key id, the hash of their sealed printed name), when, what it
means (``approved``, ``rejected``, ...) and exactly which record it signs: the event's topic,
its aggregate's id and version, and every field of the event as recorded. The Ed25519
signature covers the manifest's canonical bytes, so a copied signature fails on another record
(other id or version) and a changed field fails on its own (the manifest no longer matches
the event). Anyone holding the public key recorded at enrolment can check it offline.

The desk signs an event it has not written yet: it plays the decision on a copy of the
aggregate to learn the event's fields, asks the person to sign that manifest, checks the
signature and only then plays the decision for real (:func:`signed_decision`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.errors import SignatureInvalid
from domain.time import require_aware

MEANINGS = (
    "approved",
    "rejected",
    "scored",
    "declared",
    "appealed",
    "ruled",
    "published",
    "awarded",
    "rotated",
    "shredded",
)
FIELD = "personal_signature"
# What the event's own bookkeeping adds (the stored state also names its class version);
# everything else is the decision.
_BOOKKEEPING = frozenset(
    {"timestamp", "originator_id", "originator_version", "originator_topic", "class_version", FIELD}
)
_DOMAIN = b"huiyan personal signature v1\n"

A = TypeVar("A", bound=Aggregate)
# Signs the manifest's bytes for the acting person; returns the signature in hex.
Signer = Callable[["Manifest"], str]


def jsonable(value: Any) -> Any:
    """The JSON form of a recorded value: ids and times as text, the same on every side."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(
        jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def decision_fields(state: dict[str, Any]) -> dict[str, Any]:
    """The fields a signature covers: the event's state without its bookkeeping."""
    return jsonable({key: value for key, value in state.items() if key not in _BOOKKEEPING})


@dataclass(frozen=True)
class Manifest:
    meaning: str
    topic: str
    subject: str  # the aggregate's id
    version: int  # the event's version in that aggregate
    fields: dict[str, Any]
    signer: str  # account id
    key_id: str
    name: str | None  # hash of the signer's sealed printed name
    at: str  # ISO 8601

    def payload(self) -> bytes:
        return _DOMAIN + canonical(self.to_record())

    def to_record(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_record(cls, record: Any) -> Manifest:
        try:
            return cls(**record)
        except TypeError:
            raise SignatureInvalid(why="the manifest is malformed") from None


def check(
    record: Any,
    *,
    topic: str,
    originator_id: UUID,
    originator_version: int,
    state: dict[str, Any],
    public_key: str,
) -> Manifest:
    """Raises :class:`SignatureInvalid` unless ``record`` signs exactly this event with the
    key ``public_key`` (hex)."""
    if not isinstance(record, dict) or set(record) != {"manifest", "signature"}:
        raise SignatureInvalid(why="the signature record is malformed")
    manifest = Manifest.from_record(record["manifest"])
    if manifest.meaning not in MEANINGS:
        raise SignatureInvalid(why=f"unknown meaning {manifest.meaning!r}")
    if (manifest.topic, manifest.subject, manifest.version) != (
        topic,
        str(originator_id),
        originator_version,
    ):
        raise SignatureInvalid(why="it was made for another record")
    if manifest.fields != decision_fields(state):
        raise SignatureInvalid(why="the record differs from what was signed")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(record["signature"]), manifest.payload()
        )
    except (InvalidSignature, ValueError, TypeError):
        raise SignatureInvalid(why="the signature does not match the manifest") from None
    return manifest


@dataclass(frozen=True)
class SigningAccount:
    """What the desk knows of the signer from the ledger."""

    account_id: UUID
    key_id: str
    public_key: str
    name: str | None


def signed_decision(
    aggregate: A,
    decide: Callable[[A, dict[str, Any] | None], None],
    *,
    meaning: str,
    account: SigningAccount,
    signer: Signer,
    now: datetime,
) -> None:
    """Plays ``decide(aggregate, signature)`` with the person's signature over the event it
    records. Nothing is decided if the signature does not verify."""
    trial = copy.deepcopy(aggregate)
    decide(trial, None)
    event = trial.pending_events[-1]
    manifest = Manifest(
        meaning=meaning,
        topic=get_topic(type(event)),
        subject=str(event.originator_id),
        version=event.originator_version,
        fields=decision_fields(event.__dict__),
        signer=str(account.account_id),
        key_id=account.key_id,
        name=account.name,
        at=require_aware(now, "now").isoformat(),
    )
    record = {"manifest": manifest.to_record(), "signature": signer(manifest)}
    decide(aggregate, record)
    done = aggregate.pending_events[-1]
    check(
        record,
        topic=get_topic(type(done)),
        originator_id=done.originator_id,
        originator_version=done.originator_version,
        state=done.__dict__,
        public_key=account.public_key,
    )
