"""A C2SP tlog-witness: it cosigns a log's checkpoints, and never two that contradict each other.

A log's key proves that the log signed a checkpoint, not that the log showed everyone the same
one: whoever holds the key can sign a second history. The witness is someone else, who keeps,
for each log origin it knows, the last checkpoint it cosigned (size and root), and cosigns a
new one only when

1. a signature on it verifies with a key the witness was given for that origin (403 if not;
   404 for an origin it does not know),
2. the log's old size is the witness's size (409 with the witness's size if not), and
3. the consistency proof shows the witness's tree to be a prefix of the new one (422 if not;
   at equal sizes the roots must be equal; a smaller tree can never follow a larger one).

The check and the update of the state are one SQLite transaction (``BEGIN IMMEDIATE``, full
fsync), committed before the cosignature is made: a witness that crashes after the commit has
cosigned nothing it does not remember, and two requests at once cannot roll it back. A validly
signed checkpoint that fails the consistency check is kept apart (``refused``): two checkpoints
signed by one log key that cannot both be true are the proof that the log misbehaved.

Files in the witness's folder (0700): ``witness.key`` (PEM Ed25519, 0600), ``witness.vkey``
(its C2SP vkey, signature type 0x04) and ``witness.sqlite3`` (the state).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import CheckpointError, note_parts, parse_body, parse_note
from ledger.cosignature import COSIGNATURE_ALGORITHM, cosign, read_witness_keys
from ledger.files import write_atomically
from ledger.keys import (
    LedgerKeyError,
    SigningKey,
    VerifierKey,
    load_private_key,
    read_verifier_keys,
)
from ledger.merkle import EMPTY_ROOT, ProofError, verify_consistency
from ledger.witness_protocol import AddCheckpoint

KEY_FILE = "witness.key"
VKEY_FILE = "witness.vkey"
STATE_FILE = "witness.sqlite3"

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS logs (
    origin   TEXT PRIMARY KEY,
    log_keys TEXT NOT NULL,              -- the log's vkeys, one a line
    size     INTEGER NOT NULL DEFAULT 0, -- of the last checkpoint cosigned
    root     BLOB,                       -- its root (NULL before the first)
    note     TEXT                        -- that checkpoint, as the log signed it
)""",
    """
CREATE TABLE IF NOT EXISTS refused (
    id       INTEGER PRIMARY KEY,
    origin   TEXT NOT NULL,
    note     TEXT NOT NULL,              -- validly signed by the log, inconsistent with logs.note
    request  BLOB NOT NULL,
    reason   TEXT NOT NULL,
    at       TEXT NOT NULL
)""",
)  # statement by statement: executescript would commit the open transaction


class WitnessError(Exception):
    """The witness cannot work: no key or state in its folder, a bad name or key."""


class Refusal(Exception):
    """The witness will not cosign; ``status`` is the tlog-witness HTTP status."""

    status = 400
    title = "Bad Request"


class UnknownLog(Refusal):
    status, title = 404, "Not Found"


class Forbidden(Refusal):
    status, title = 403, "Forbidden"


class Conflict(Refusal):
    status, title = 409, "Conflict"

    def __init__(self, size: int) -> None:
        super().__init__(f"the log's old size is not this witness's size, {size}")
        self.size = size


class Inconsistent(Refusal):
    status, title = 422, "Unprocessable Entity"


@dataclass(frozen=True)
class LogState:
    origin: str
    keys: dict[str, VerifierKey]
    size: int
    root: bytes | None
    note: str | None


class Witness:
    def __init__(self, folder: Path, clock: Callable[[], datetime]) -> None:
        """Open an initialised witness (``Witness.init``); ``clock`` stamps cosignatures."""
        self.folder = folder
        self.clock = clock
        if not (folder / STATE_FILE).is_file():
            raise WitnessError(f"no witness in {folder}: run `huiyan audit witness init`")
        self.key = _load_key(folder)

    @classmethod
    def init(
        cls,
        folder: Path,
        clock: Callable[[], datetime],
        *,
        name: str | None,
        origin: str,
        log_keys: Iterable[VerifierKey],
    ) -> Witness:
        """Make the folder, the key (first time only: it needs ``name``) and the state, and
        trust ``log_keys`` for ``origin`` (added to the keys it had; its size is kept)."""
        if not origin or origin != origin.strip() or "\n" in origin:
            raise WitnessError(f"not a log origin: {origin!r}")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not (folder / KEY_FILE).exists():
            _make_key(folder, name)
        elif name is not None and _load_key(folder).name != name:
            raise WitnessError(f"the witness in {folder} is named {_load_key(folder).name}")
        with _transaction(folder / STATE_FILE) as db:
            for statement in SCHEMA:
                db.execute(statement)
            row = db.execute("SELECT log_keys FROM logs WHERE origin = ?", (origin,)).fetchone()
            known = read_verifier_keys(row[0].splitlines()) if row else {}
            known.update({key.key_id: key for key in log_keys})
            lines = "".join(key.encode() + "\n" for key in known.values())
            db.execute(
                "INSERT INTO logs (origin, log_keys) VALUES (?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET log_keys = excluded.log_keys",
                (origin, lines),
            )
        return cls(folder, clock)

    def add_checkpoint(self, request: AddCheckpoint) -> str:
        """The cosignature line on the request's checkpoint, once the new state is on disk;
        raises a :class:`Refusal` (naming the HTTP status) otherwise."""
        try:
            body, _ = note_parts(request.note)
            checkpoint = parse_body(body)
        except CheckpointError as error:
            raise Refusal(f"not a checkpoint: {error}") from None
        try:
            with _transaction(self.folder / STATE_FILE) as db:
                log = _state(db, checkpoint.origin)
                if log is None:
                    raise UnknownLog(f"this witness knows no log {checkpoint.origin!r}")
                try:
                    parse_note(request.note, log.keys)
                except CheckpointError as error:
                    raise Forbidden(f"not signed by the log's key: {error}") from None
                if request.old_size > checkpoint.tree_size:
                    raise Refusal(
                        f"old size {request.old_size} is beyond the checkpoint's "
                        f"{checkpoint.tree_size}"
                    )
                if request.old_size != log.size:
                    raise Conflict(log.size)
                _check_consistency(log, request, checkpoint.tree_size, checkpoint.root_hash)
                db.execute(
                    "UPDATE logs SET size = ?, root = ?, note = ? WHERE origin = ?",
                    (checkpoint.tree_size, checkpoint.root_hash, request.note, checkpoint.origin),
                )
        except Inconsistent as refusal:
            self._keep_refused(checkpoint.origin, request, refusal)
            raise
        return cosign(self.key, body, int(self.clock().timestamp()))

    def state(self, origin: str) -> LogState | None:
        """What the witness holds for ``origin`` (None for a log it does not know)."""
        with _transaction(self.folder / STATE_FILE) as db:
            return _state(db, origin)

    def refused(self) -> list[tuple[str, str, str]]:
        """(origin, note, reason) of each validly signed checkpoint it refused, oldest first."""
        with _transaction(self.folder / STATE_FILE) as db:
            return list(db.execute("SELECT origin, note, reason FROM refused ORDER BY id"))

    def _keep_refused(self, origin: str, request: AddCheckpoint, refusal: Refusal) -> None:
        """Only checkpoints whose log signature verified get here: evidence, not noise."""
        with _transaction(self.folder / STATE_FILE) as db:
            db.execute(
                "INSERT INTO refused (origin, note, request, reason, at) VALUES (?, ?, ?, ?, ?)",
                (origin, request.note, request.encode(), str(refusal), self.clock().isoformat()),
            )


def _check_consistency(log: LogState, request: AddCheckpoint, size: int, root: bytes) -> None:
    """Raise Inconsistent unless the checkpoint extends what the witness holds."""
    if size == 0 and root != EMPTY_ROOT:
        raise Inconsistent("a checkpoint of size 0 must have the empty tree's root")
    if request.old_size == 0:
        if request.proof:
            raise Inconsistent("a proof from size 0 must be empty")
        return
    assert log.root is not None  # a size above 0 is stored with its root
    try:
        verify_consistency(request.old_size, size, log.root, root, request.proof)
    except ProofError as error:
        raise Inconsistent(f"not consistent with the checkpoint cosigned before: {error}") from None


def _state(db: sqlite3.Connection, origin: str) -> LogState | None:
    row = db.execute(
        "SELECT log_keys, size, root, note FROM logs WHERE origin = ?", (origin,)
    ).fetchone()
    if row is None:
        return None
    keys, size, root, note = row
    return LogState(origin, read_verifier_keys(keys.splitlines()), size, root, note)


@contextmanager
def _transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """One transaction that excludes other writers (threads and processes alike) from the
    check to the commit, which SQLite makes durable with a full fsync; any error rolls back."""
    if not path.parent.is_dir():
        raise WitnessError(f"no witness in {path.parent}: run `huiyan audit witness init`")
    with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as db:
        db.execute("PRAGMA synchronous = FULL")
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _make_key(folder: Path, name: str | None) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise WitnessError("a new witness needs --name, one word without '+' (e.g. a host/path)")
    key = SigningKey(name, Ed25519PrivateKey.generate(), COSIGNATURE_ALGORITHM)
    write_atomically(folder / KEY_FILE, key.pem())
    write_atomically(folder / VKEY_FILE, key.verifier.encode().encode() + b"\n")


def _load_key(folder: Path) -> SigningKey:
    try:
        (vkey,) = read_witness_keys((folder / VKEY_FILE).read_text().splitlines()).values()
    except (OSError, ValueError, LedgerKeyError):
        raise WitnessError(f"no readable witness key in {folder} ({VKEY_FILE})") from None
    key = load_private_key(folder / KEY_FILE, vkey.name, COSIGNATURE_ALGORITHM, "witness key")
    if key.key_id != vkey.key_id:
        raise WitnessError(f"{KEY_FILE} and {VKEY_FILE} in {folder} are not one key")
    return key
