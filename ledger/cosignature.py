"""Witness cosignatures on checkpoints, in the C2SP tlog-cosignature format (``cosignature/v1``).

A cosignature is one more signature line on a checkpoint, made by a witness rather than by the
log: ``— <witness name> base64(key id ‖ u64 timestamp ‖ Ed25519 signature)``. It says that, at
that time, this was the largest tree the witness had seen for the origin, and that every tree
it saw before is a prefix of it. So a log that shows two histories cannot have both cosigned by
one honest witness.

The signed message is ``"cosignature/v1\\n" "time <timestamp>\\n"`` followed by the checkpoint's
text (extension lines included). The key id is the C2SP one with signature type 0x04, so a
witness key never passes for a log key (type 0x01) nor the reverse. This format, like the
checkpoint's, is a contract with every other C2SP implementation: it does not change.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.checkpoint import SIGNATURE_DASH
from ledger.keys import SigningKey, VerifierKey, read_verifier_keys

COSIGNATURE_ALGORITHM = b"\x04"  # C2SP signed-note type: timestamped Ed25519 cosignature
HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What the witness signs: the header, the time, then the checkpoint text as it is."""
    return f"{HEADER}\ntime {timestamp}\n{body}".encode()


def cosign(key: SigningKey, body: str, timestamp: int) -> str:
    """One cosignature line (ending in a newline) on the checkpoint text ``body``."""
    if key.algorithm != COSIGNATURE_ALGORITHM:
        raise ValueError("a cosignature needs a witness key (signature type 0x04)")
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"a cosignature's timestamp must be positive, not {timestamp}")
    signature = key.sign(cosigned_message(body, timestamp))
    raw = bytes.fromhex(key.key_id) + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_DASH}{key.name} {base64.b64encode(raw).decode()}\n"


def read_witness_keys(lines: Iterable[str]) -> dict[str, VerifierKey]:
    """Witness vkeys (``<name>+<id>+base64(0x04 ‖ public key)``), one a line."""
    return read_verifier_keys(lines, COSIGNATURE_ALGORITHM)


@dataclass(frozen=True)
class Cosignature:
    key: VerifierKey
    timestamp: int
    line: str  # the signature line as received, newline-terminated


@dataclass(frozen=True)
class CosignatureCheck:
    """The cosignature lines on one checkpoint text, sorted by the witness keys given."""

    valid: dict[str, Cosignature]  # key id -> the first valid cosignature by that key
    invalid: dict[str, str]  # key id -> why its line does not verify


def check_cosignatures(
    body: str, lines: Iterable[str], keys: dict[str, VerifierKey]
) -> CosignatureCheck:
    """Check every line by one of ``keys`` (matched by name and key id) over ``body``; lines by
    any other key (the log's own signature among them) are ignored, as C2SP signed notes
    require. A key with one valid line counts as valid, whatever else it signed."""
    valid: dict[str, Cosignature] = {}
    invalid: dict[str, str] = {}
    for line in lines:
        line = line.rstrip("\n")
        if not line.startswith(SIGNATURE_DASH):
            continue
        name, _, blob = line[len(SIGNATURE_DASH) :].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            continue
        key = keys.get(raw[:4].hex())
        if key is None or key.name != name:
            continue
        why = _fault(key, body, raw)
        if why is None:
            timestamp = int.from_bytes(raw[4:12], "big")
            valid.setdefault(key.key_id, Cosignature(key, timestamp, line + "\n"))
        else:
            invalid[key.key_id] = why
    for key_id in valid:
        invalid.pop(key_id, None)
    return CosignatureCheck(valid, invalid)


def _fault(key: VerifierKey, body: str, raw: bytes) -> str | None:
    if len(raw) != 4 + 8 + 64:
        return f"a cosignature is 76 bytes, this one {len(raw)}"
    timestamp = int.from_bytes(raw[4:12], "big")
    if not 0 < timestamp <= MAX_TIMESTAMP:
        return f"timestamp {timestamp} is out of range"
    if not key.verify(raw[12:], cosigned_message(body, timestamp)):
        return "the signature does not verify over this checkpoint"
    return None
