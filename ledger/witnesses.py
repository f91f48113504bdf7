"""The ledger as a client of C2SP tlog-witnesses: which ones (``HUIYAN_WITNESSES``), and one
``add-checkpoint`` exchange with each.

A witness that is down, slow, or refuses is a finding to report, never a reason to withhold a
checkpoint: every failure here becomes a :class:`WitnessOutcome` with a one-line reason.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from ledger.checkpoint import SignedCheckpoint, note_parts
from ledger.cosignature import COSIGNATURE_ALGORITHM, Cosignature, check_cosignatures
from ledger.keys import LedgerKeyError, VerifierKey
from ledger.witness_protocol import PATH, AddCheckpoint, ProtocolError, parse_size

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0  # per request: a checkpoint may be issued inside a web request
MAX_ANSWER_BYTES = 64 << 10


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness as the log knows it: its submission prefix and its cosigner vkey."""

    url: str
    key: VerifierKey

    @property
    def name(self) -> str:
        return f"{self.key.name} ({self.url})"


def parse_witnesses(text: str) -> tuple[WitnessEndpoint, ...]:
    """``<URL> <vkey>`` pairs, separated by commas or newlines; ValueError says which is bad."""
    endpoints = []
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        url, _, vkey = item.strip().partition(" ")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a witness URL must start with http:// or https:// ({url[:40]!r})")
        try:
            key = VerifierKey.decode(vkey.strip(), COSIGNATURE_ALGORITHM)
        except LedgerKeyError as error:
            raise ValueError(f"witness {url}: {error}") from None
        endpoints.append(WitnessEndpoint(url.rstrip("/"), key))
    if len({e.key.key_id for e in endpoints}) != len(endpoints):
        raise ValueError("a witness key is listed twice")
    return tuple(endpoints)


@dataclass(frozen=True)
class WitnessOutcome:
    endpoint: WitnessEndpoint
    cosignature: Cosignature | None = None
    failure: str | None = None
    already: bool = False  # the ledger held this witness's cosignature on the checkpoint

    def describe(self) -> str:
        """One line for an operator."""
        if self.cosignature is None:
            return f"witness {self.endpoint.name}: FAILED: {self.failure}"
        how = "had cosigned" if self.already else "cosigned"
        return f"witness {self.endpoint.name}: {how} (time {self.cosignature.timestamp})"


def log_outcome(outcome: WitnessOutcome) -> None:
    """Where outcomes go when the caller does not show them: a failure is a warning."""
    if outcome.failure is not None:
        log.warning(outcome.describe())
    else:
        log.info(outcome.describe())


class WitnessConflict(Exception):
    """409: the witness last cosigned another size than the one the log sent."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness is at size {size}")
        self.size = size


class WitnessFailure(Exception):
    """The witness cannot be reached, refused, or answered something unusable."""


def ask_witness(
    endpoint: WitnessEndpoint,
    signed: SignedCheckpoint,
    known_size: int,
    proof_from: Callable[[int], list[bytes]],
) -> WitnessOutcome:
    """Ask for a cosignature, sending the consistency proof from ``known_size`` (at most the
    checkpoint's size), the size the log believes the witness holds; on 409 ask once more from
    the size the witness names (the log lost an answer, or another instance of the log updated
    it). A witness whose size is beyond the checkpoint's, or any refusal, is a failure."""
    size = signed.checkpoint.tree_size
    try:
        try:
            answer = _post(endpoint, known_size, proof_from(known_size), signed)
            return _cosigned(endpoint, signed, answer)
        except WitnessConflict as conflict:
            if conflict.size > size:
                raise WitnessFailure(
                    f"the witness cosigned size {conflict.size}, beyond this checkpoint's "
                    f"{size}: it has seen a larger tree of this origin"
                ) from None
            answer = _post(endpoint, conflict.size, proof_from(conflict.size), signed)
            return _cosigned(endpoint, signed, answer)
    except WitnessConflict as conflict:
        return WitnessOutcome(endpoint, failure=f"409 again: {conflict}")
    except (WitnessFailure, ValueError) as error:  # ProofError, ProtocolError are ValueErrors
        return WitnessOutcome(endpoint, failure=str(error))


def _post(
    endpoint: WitnessEndpoint, old_size: int, proof: list[bytes], signed: SignedCheckpoint
) -> str:
    body = AddCheckpoint(old_size, proof, signed.note).encode()
    request = urllib.request.Request(endpoint.url + PATH, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return _text(response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as error:
        answer = _text(error.read(MAX_ANSWER_BYTES))
        if error.code == 409:
            raise WitnessConflict(parse_size(answer)) from None
        raise WitnessFailure(f"refused: {error.code} {answer.strip()[:200]}") from None
    except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
        raise WitnessFailure(f"unreachable: {getattr(error, 'reason', error)}") from None


def _cosigned(endpoint: WitnessEndpoint, signed: SignedCheckpoint, answer: str) -> WitnessOutcome:
    body, _ = note_parts(signed.note)
    check = check_cosignatures(body, answer.splitlines(), {endpoint.key.key_id: endpoint.key})
    cosignature = check.valid.get(endpoint.key.key_id)
    if cosignature is None:
        why = check.invalid.get(endpoint.key.key_id, "no line by its key")
        raise WitnessFailure(f"answered no valid cosignature: {why}")
    return WitnessOutcome(endpoint, cosignature)


def _text(data: bytes) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ProtocolError("the witness answered bytes that are not UTF-8") from None
