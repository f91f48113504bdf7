"""Helpers for the witness tests: a witness trusting a ledger's key, served on a thread, and a
ledger's settings that name it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audit.witness import Witness
from audit.witness_http import WitnessServer
from ledger.checkpoint import SignedCheckpoint
from ledger.ledger import Ledger, keyring_for
from ledger.settings import Settings
from ledger.witness_protocol import AddCheckpoint
from ledger.witnesses import WitnessEndpoint
from tests.ledger.history import NOW


def make_witness(folder: Path, settings: Settings, name: str = "witness.test/w1") -> Witness:
    """A witness that trusts the ledger's current key for its origin."""
    log_key = keyring_for(settings).signing_key().verifier
    return Witness.init(folder, lambda: NOW, name=name, origin=settings.origin, log_keys=[log_key])


@contextmanager
def serving(witness: Witness) -> Iterator[str]:
    """The witness's HTTP server on a free port, in a thread; yields its URL."""
    server = WitnessServer(witness, ("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def with_witnesses(settings: Settings, *pairs: tuple[str, Witness]) -> Settings:
    """``settings`` with HUIYAN_WITNESSES naming these (URL, witness) pairs."""
    endpoints = tuple(WitnessEndpoint(url, w.key.verifier) for url, w in pairs)
    return dataclasses.replace(settings, witnesses=endpoints)


def request(ledger: Ledger, signed: SignedCheckpoint, old_size: int) -> AddCheckpoint:
    """What the log sends: the proof from ``old_size`` to ``signed``."""
    return AddCheckpoint(old_size, ledger.consistency_proof_from(old_size, signed), signed.note)
