"""Changing and revoking the ledger's signing key: privileged acts, recorded in the ledger.

A rotation is a handover in three steps, ordered so that a crash leaves nothing half done that
matters: the incoming key is made and stored (not active); the handover event, signed as an
entry by the incoming key and carrying the outgoing key's signature over the incoming public
key, is appended under the table lock, which refuses if the ledger's head is not signed by the
outgoing key; only then does the incoming key become active and the outgoing private key get
destroyed. Every other writer learns of the change under the same lock (ledger.persistence).
"""

from __future__ import annotations

import base64

from eventsourcing.application import AggregateNotFoundError, Application

from ledger.application import open_application
from ledger.key_history import KeyHistory, handover_message
from ledger.keys import LedgerKeyError, SigningKey
from ledger.ledger import Ledger, keyring_for
from ledger.settings import Settings


def _history(settings: Settings, app: Application) -> KeyHistory:
    """The ledger's key history; on first use it is opened by the active key in a
    transaction of its own, so that a handover is always alone in its transaction (the
    incoming key's window starts exactly at the handover)."""
    try:
        return app.repository.get(KeyHistory.create_id(settings.origin))
    except AggregateNotFoundError:
        history = KeyHistory(settings.origin)
        open_application(Application, settings).save(history)
        return history


def rotate(settings: Settings, *, operator: str, reason: str) -> tuple[str, SigningKey]:
    """Hand the ledger over to a new key; returns (retired key id, new key)."""
    keyring = keyring_for(settings)
    outgoing = keyring.signing_key()
    incoming = keyring.new_key()
    successor_key = incoming.verifier.encode()
    signature = outgoing.sign(handover_message(outgoing.verifier, successor_key))
    app = open_application(
        Application,
        settings,
        LEDGER_HANDOVER_FROM=outgoing.key_id,
        LEDGER_HANDOVER_TO=incoming.key_id,
    )
    history = _history(settings, app)
    history.handed_over(
        retired=outgoing.key_id,
        successor=incoming.key_id,
        successor_key=successor_key,
        handover=base64.b64encode(signature).decode(),
        operator=operator,
        reason=reason,
        at=settings.now(),
    )
    app.save(history)
    keyring.activate(incoming)
    return outgoing.key_id, incoming


def revoke(
    settings: Settings, key_id: str, from_position: int, *, operator: str, reason: str
) -> None:
    """Record that ``key_id`` is compromised from ``from_position`` on; verify then flags every
    entry and checkpoint it signed from there. The active key cannot be revoked: rotate first,
    so that the revocation is signed by a key the thief does not hold."""
    keyring = keyring_for(settings)
    known = keyring.verifier_keys()
    if key_id not in known:
        raise LedgerKeyError(f"no ledger key {key_id!r} (known: {', '.join(known) or 'none'})")
    if from_position < 0:
        raise LedgerKeyError(f"--from must be a position (0 or more), not {from_position}")
    if keyring.signing_key().key_id == key_id:
        raise LedgerKeyError(
            f"key {key_id} is the active key: rotate first (`huiyan keys rotate`), "
            "then revoke it, so that the revocation is signed by a key the thief does not hold"
        )
    size = Ledger.from_settings(settings).size()
    if from_position > size:
        raise LedgerKeyError(f"--from {from_position} is beyond the ledger's {size} entries")
    app = open_application(Application, settings)
    history = _history(settings, app)
    history.revoked(
        key_id=key_id,
        from_position=from_position,
        operator=operator,
        reason=reason,
        at=settings.now(),
    )
    app.save(history)
