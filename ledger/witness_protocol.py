"""The bytes of C2SP tlog-witness ``add-checkpoint``: what the log sends and what it gets back.

Request: ``old <size>\\n``, one base64 consistency-proof hash a line (RFC 9162 PROOF, from the
old size to the checkpoint's), a blank line, then the signed checkpoint. Answer: the witness's
cosignature lines (200), or its own size as ``<size>\\n`` (409, ``text/x.tlog.size``) when the
log's old size is not the one it last cosigned. Both sides, the ledger's client and huiyan's
witness, read and write them here, so they cannot drift apart.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ledger.merkle import HASH_SIZE

PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63


class ProtocolError(ValueError):
    """A request or answer that does not follow the tlog-witness format; says what."""


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str

    def encode(self) -> bytes:
        return (self.proof_text() + "\n" + self.note).encode()

    def proof_text(self) -> str:
        """The part before the blank line: the old size and the proof (also the file that
        ``huiyan ledger consistency`` prints and ``huiyan audit witness cosign`` reads)."""
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def decode(cls, data: bytes) -> AddCheckpoint:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise ProtocolError("the request is not UTF-8 text") from None
        head, separator, note = text.partition("\n\n")
        if not separator:
            raise ProtocolError("no blank line between the proof and the checkpoint")
        first, *proof_lines = head.split("\n")
        if len(proof_lines) > MAX_PROOF_LINES:
            raise ProtocolError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        return cls(_old_size(first), [_hash(line) for line in proof_lines], note)


def parse_size(text: str) -> int:
    """The witness's size in a 409 answer."""
    if not text.endswith("\n"):
        raise ProtocolError("a size answer ends with a newline")
    return _decimal(text[:-1], "size")


def _old_size(line: str) -> int:
    word, _, number = line.partition(" ")
    if word != "old":
        raise ProtocolError(f"the first line must be 'old <size>', not {line[:40]!r}")
    return _decimal(number, "old size")


def _decimal(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or (text != "0" and text.startswith("0")):
        raise ProtocolError(f"the {what} is not a decimal number: {text[:40]!r}")
    return int(text)


def _hash(line: str) -> bytes:
    try:
        value = base64.b64decode(line, validate=True)
    except ValueError:
        raise ProtocolError(f"a proof line is not base64: {line[:60]!r}") from None
    if len(value) != HASH_SIZE:
        raise ProtocolError(f"a proof hash has {len(value)} bytes, not {HASH_SIZE}")
    return value
