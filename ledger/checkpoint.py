"""Signed tree heads in the C2SP tlog-checkpoint format (a C2SP signed note).

A checkpoint is the text ``<origin>\\n<tree size>\\n<base64 root hash>\\n``, a blank line, and
one signature line per signer: ``— <key name> <base64(4-byte key hash || Ed25519 signature)>``.
The signature is over the text including its final newline. Any C2SP note verifier (Go's
golang.org/x/mod/sumdb/note, transparency-dev/formats) can check huiyan's checkpoints with the
verifier key that ``huiyan ledger keys`` prints.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ledger.keys import SigningKey, VerifierKey

SIGNATURE_DASH = "\u2014 "


class CheckpointError(ValueError):
    """A checkpoint that does not parse or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n"

    def sign(self, key: SigningKey) -> str:
        """The signed note, ready to publish or to store."""
        signature = key.sign(self.body.encode())
        blob = base64.b64encode(bytes.fromhex(key.key_id) + signature).decode()
        return f"{self.body}\n{SIGNATURE_DASH}{key.name} {blob}\n"


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str
    key_id: str


def note_parts(note: str) -> tuple[str, list[str]]:
    """(text with its final newline, signature lines): the text is what every signature and
    cosignature covers, extension lines included."""
    body, separator, signatures = note.partition("\n\n")
    if not separator or not body:
        raise CheckpointError("not a signed note: no blank line between text and signatures")
    return body + "\n", signatures.splitlines()


def parse_body(body: str) -> Checkpoint:
    """The origin, size and root of a checkpoint's text (lines after the third are extensions,
    which huiyan never writes and signs over as they are)."""
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("checkpoint text needs origin, tree size and root hash lines")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"checkpoint tree size is not a decimal number: {size_text!r}")
    try:
        root_hash = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise CheckpointError("checkpoint root hash is not base64") from None
    if len(root_hash) != 32:
        raise CheckpointError(f"checkpoint root hash has {len(root_hash)} bytes, not 32")
    return Checkpoint(origin, int(size_text), root_hash)


def parse_note(note: str, keys: dict[str, VerifierKey]) -> SignedCheckpoint:
    """Parse a signed checkpoint and verify its signature with one of ``keys``; signature
    lines by other keys (a witness's cosignatures among them) are skipped."""
    body, signatures = note_parts(note)
    checkpoint = parse_body(body)
    unknown = []
    for line in signatures:
        if not line.startswith(SIGNATURE_DASH):
            raise CheckpointError(f"bad signature line in checkpoint: {line!r}")
        name, _, blob = line[len(SIGNATURE_DASH) :].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise CheckpointError("checkpoint signature is not base64") from None
        key_id = raw[:4].hex()
        key = keys.get(key_id)
        if key is None or key.name != name:
            unknown.append(key_id)
            continue
        if not key.verify(raw[4:], body.encode()):
            raise CheckpointError(f"checkpoint signature by key {key_id} does not verify")
        return SignedCheckpoint(checkpoint, note, key_id)
    raise CheckpointError(
        f"checkpoint is not signed by a known key (signed by: {', '.join(unknown) or 'nobody'})"
    )
