"""What a ledger entry is, byte for byte: the canonical encoding, the chain link, the signature.

These few functions are the whole contract between the recorder that writes entries and every
verifier that checks them (``huiyan ledger verify``, the offline verifier, other languages), so
they are written out here once and documented in docs/ledger.md.

- entry bytes: ``"huiyan-ledger-entry/v1\\n" || u64 position || 16-byte originator UUID ||
  u64 originator version || u32 len || topic (UTF-8) || u64 len || state``, big-endian. The
  state is the stored bytes exactly as the mapper produced them (possibly compressed and
  encrypted), so verification needs no decryption key and survives crypto-shredding.
- leaf hash: RFC 9162 ``SHA-256(0x00 || entry bytes)``; the Merkle tree's leaves.
- chain: ``chain(n) = SHA-256(0x02 || chain(n-1) || leaf(n))`` with ``chain(-1)`` = 32 zero
  bytes; every row stores ``prev_hash`` = chain(n-1).
- signature: Ed25519 over ``"huiyan-ledger-sig/v1\\n" || leaf hash || prev_hash``, so a signature
  pins the event's content, its position and the whole history before it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from uuid import UUID

from ledger.merkle import LEAF_PREFIX

ENTRY_PREFIX = b"huiyan-ledger-entry/v1\n"
SIGNATURE_PREFIX = b"huiyan-ledger-sig/v1\n"
CHAIN_PREFIX = b"\x02"
GENESIS = bytes(32)


_HEAD = struct.Struct(">Q16sQI")  # position, originator, originator version, len(topic)
_LENGTH = struct.Struct(">Q")
_LEAF_PREFIX = LEAF_PREFIX + ENTRY_PREFIX


def _body(position: int, originator: bytes, version: int, topic: bytes, state: bytes) -> bytes:
    if len(originator) != 16:  # "16s" would pad or cut it silently
        raise ValueError(f"an originator id has 16 bytes, not {len(originator)}")
    return b"".join(
        (
            _HEAD.pack(position, originator, version, len(topic)),
            topic,
            _LENGTH.pack(len(state)),
            state,
        )
    )


def entry_bytes(
    position: int, originator_id: UUID, originator_version: int, topic: str, state: bytes
) -> bytes:
    return ENTRY_PREFIX + _body(
        position, originator_id.bytes, originator_version, topic.encode(), state
    )


def entry_leaf_hash(
    position: int, originator_id: UUID, originator_version: int, topic: str, state: bytes
) -> bytes:
    return leaf_of(position, originator_id.bytes, originator_version, topic.encode(), state)


def leaf_of(position: int, originator: bytes, version: int, topic: bytes, state: bytes) -> bytes:
    """The leaf hash from raw column values: ``leaf_hash(entry_bytes(...))`` in one pass (the
    verifier's hot path). Raises ValueError (struct.error) for values out of range."""
    return hashlib.sha256(
        _LEAF_PREFIX + _body(position, originator, version, topic, state)
    ).digest()


def chain_hash(prev_hash: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(CHAIN_PREFIX + prev_hash + leaf).digest()


def signed_message(leaf: bytes, prev_hash: bytes) -> bytes:
    return SIGNATURE_PREFIX + leaf + prev_hash


@dataclass(frozen=True)
class Receipt:
    """What appending an event gives back: enough to prove later that the ledger took it."""

    position: int
    notification_id: int
    leaf_hash: bytes
    prev_hash: bytes
    key_id: str
    signature: bytes

    def as_json(self) -> dict[str, object]:
        return {
            "position": self.position,
            "notification_id": self.notification_id,
            "leaf_hash": self.leaf_hash.hex(),
            "prev_hash": self.prev_hash.hex(),
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }
