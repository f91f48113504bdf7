"""The ledger as its operators and auditors see it: size, receipts, checkpoints, proofs.

Applications write through the recorder (ledger.persistence); this class only reads the events
table, keeps the Merkle tree's stored nodes up to date and issues and keeps checkpoints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from ledger.checkpoint import Checkpoint, CheckpointError, SignedCheckpoint, parse_note
from ledger.checkpoint_audit import checkpoints_table_name, stored_notes
from ledger.cosignature import Cosignature
from ledger.cosignature_store import CosignatureStore, cosignatures_table
from ledger.entry import Receipt
from ledger.keys import Keyring, VerifierKey
from ledger.merkle import Frontier, verify_consistency, verify_inclusion
from ledger.range_check import check_rows, window_failures
from ledger.rows import Entry, RowError, rows_at, rows_where, survey
from ledger.settings import EVENTS_TABLE, Settings
from ledger.tables import create_missing
from ledger.tree import LedgerTree, SqlLeafSource
from ledger.verify import key_lifecycle
from ledger.witnesses import WitnessEndpoint, WitnessOutcome, ask_witness, log_outcome


class LedgerError(Exception):
    """An operator asked for something the ledger cannot give; the message says what."""


@dataclass(frozen=True)
class InclusionProof:
    """Everything needed to check offline that an entry is in a signed tree."""

    position: int
    leaf_hash: bytes
    tree_size: int
    path: list[bytes]
    checkpoint_note: str

    def as_json(self) -> dict[str, object]:
        return {
            "position": self.position,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "path": [node.hex() for node in self.path],
            "checkpoint": self.checkpoint_note,
        }


def checkpoints_table(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )


def engine_for(url: str) -> sa.Engine:
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise LedgerError(
            f"cannot use database URL {url.split('://', 1)[0]}://...: {error}"
        ) from None


class Ledger:
    def __init__(
        self,
        engine: sa.Engine,
        keyring: Keyring,
        events_table: str = EVENTS_TABLE,
        *,
        create: bool = True,
        witnesses: Sequence[WitnessEndpoint] = (),
    ) -> None:
        """``create=False`` opens the ledger read-only (for verifiers): no table is made.
        ``witnesses`` are asked to cosign every checkpoint issued."""
        self.engine = engine
        self.keyring = keyring
        self.events_table = events_table
        self.witnesses = tuple(witnesses)
        metadata = sa.MetaData()
        self._checkpoints = checkpoints_table(metadata, checkpoints_table_name(events_table))
        self.cosignature_store = CosignatureStore(
            engine, cosignatures_table(metadata, f"{events_table}_cosignatures")
        )
        self._events = sa.Table(
            events_table,
            metadata,
            sa.Column("id", sa.BigInteger),
            sa.Column("position", sa.BigInteger),
            sa.Column("leaf_hash", sa.LargeBinary),
            sa.Column("prev_hash", sa.LargeBinary),
            sa.Column("key_id", sa.String),
            sa.Column("signature", sa.LargeBinary),
        )
        self._require_events_table()
        if create:
            create_missing(engine, [self._checkpoints, self.cosignature_store.table])

    @functools.cached_property
    def tree(self) -> LedgerTree:
        return LedgerTree(
            self.engine,
            SqlLeafSource(self.engine, self.events_table),
            f"{self.events_table}_merkle_nodes",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Ledger:
        return cls(
            engine_for(settings.database_url),
            keyring_for(settings),
            settings.events_table,
            witnesses=settings.witnesses,
        )

    def _require_events_table(self) -> None:
        try:
            exists = sa.inspect(self.engine).has_table(self.events_table)
        except sa.exc.OperationalError as error:
            reason = str(error.orig).strip().splitlines()[-1]
            raise LedgerError(f"cannot open the ledger database: {reason}") from None
        if not exists:
            raise LedgerError(
                f"no ledger in this database (table {self.events_table} does not exist)"
            )

    def size(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self._events)).scalar_one()

    def receipts(self, notification_ids: list[int]) -> list[Receipt]:
        events = self._events
        query = sa.select(
            events.c.position,
            events.c.id,
            events.c.leaf_hash,
            events.c.prev_hash,
            events.c.key_id,
            events.c.signature,
        ).where(events.c.id.in_(notification_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(events.c.position)).all()
        return [Receipt(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4], bytes(r[5])) for r in rows]

    def entry(self, position: int) -> Entry:
        with self.engine.connect() as conn:
            rows = rows_at(conn, self.events_table, position, position + 1)
        if len(rows) != 1:
            raise LedgerError(f"no entry at position {position}")
        try:
            return Entry.of(rows[0])
        except RowError as error:
            raise LedgerError(f"the entry at position {position} has {error}") from None

    def entries_of(self, originator_ids: Iterable[UUID]) -> list[Entry]:
        """Every entry of these aggregates, in ledger order: a matter's history, the place of
        the scores a result stands on."""
        sqlite = self.engine.dialect.name == "sqlite"
        with self.engine.connect() as conn:
            found = [
                entry
                for ident in originator_ids
                for entry in rows_where(
                    conn, self.events_table, "originator_id", ident.bytes if sqlite else ident
                )
            ]
        return sorted(found, key=lambda entry: entry.position)

    def issue_checkpoint(
        self,
        now: datetime,
        *,
        rebuild_tree: bool = False,
        report: Callable[[WitnessOutcome], None] = log_outcome,
    ) -> SignedCheckpoint:
        """Sign the tree head derived from the events themselves, keep it, and have it
        cosigned by the witnesses (each outcome goes to ``report``; a failing witness never
        withholds the checkpoint).

        The head is the last valid checkpoint extended by the leaves re-derived from the rows
        appended since, each row's signature, link and key checked; the Merkle cache must
        agree with it, or nothing is signed. Reuses the latest checkpoint when nothing changed
        (and asks again the witnesses that have not cosigned it).
        """
        signed = self._sign_head(now, rebuild_tree)
        for outcome in self.witness(signed, now):
            report(outcome)
        return signed

    def _sign_head(self, now: datetime, rebuild_tree: bool) -> SignedCheckpoint:
        keys = self.verifier_keys()
        base = self.latest_checkpoint(keys)
        size, root, head_key = self._derive_head(base, keys, rebuild_tree)
        if base is not None and base.checkpoint.tree_size == size:
            return base
        key = self.keyring.signing_key()
        if head_key is not None and head_key != key.key_id:
            key = self.keyring.private_key(head_key)
        if key is None:
            raise LedgerError(
                f"the ledger's head is signed by key {head_key}, which this instance does not "
                "hold: a checkpoint is signed by the ledger's current key"
            )
        checkpoint = Checkpoint(key.name, size, root)
        note = checkpoint.sign(key)
        with self.engine.begin() as conn:
            conn.execute(
                self._checkpoints.insert().values(
                    tree_size=size,
                    root_hash=checkpoint.root_hash,
                    key_id=key.key_id,
                    note=note,
                    issued_at=now,
                )
            )
        return SignedCheckpoint(checkpoint, note, key.key_id)

    def _derive_head(
        self, base: SignedCheckpoint | None, keys: dict[str, VerifierKey], rebuild_tree: bool
    ) -> tuple[int, bytes, str | None]:
        """(size, root, key of the last entry), from the rows; refuses what does not verify."""
        start = 0 if base is None else base.checkpoint.tree_size
        with self.engine.connect() as conn:
            total, usable, size = survey(conn, self.events_table)
            lifecycle = key_lifecycle(conn, self.events_table, keys)
            rows = rows_at(conn, self.events_table, max(start - 1, 0), size)
        if total != usable or usable != size:
            raise LedgerError(
                f"the events table holds {total} rows for positions 0..{size - 1}: it has "
                "gaps or rows without a position; run `huiyan ledger verify`"
            )
        if size < start:
            raise LedgerError(
                f"the ledger holds {size} entries, fewer than its checkpoint at size {start}"
            )
        checked = check_rows(rows, start, size, keys)
        failures = checked.failures + window_failures([checked], lifecycle)
        if failures:
            failure = min(failures, key=lambda f: f.position)
            raise LedgerError(
                f"refusing to sign: the entry at position {failure.position} does not verify "
                f"({failure.raw.value}); run `huiyan ledger verify`"
            )
        frontier = self._cached_frontier(start, base, rebuild_tree)
        for leaf in checked.leaf_list():
            frontier.append(leaf)
        self._check_cache(size, frontier.root())
        head_key = rows[-1][7] if rows and size > 0 else None
        return size, frontier.root(), head_key

    def _cached_frontier(
        self, start: int, base: SignedCheckpoint | None, rebuild_tree: bool
    ) -> Frontier:
        if rebuild_tree:
            self.tree.clear()
        try:
            self.tree.sync()
            frontier = self.tree.frontier(start)
        except ValueError as error:
            raise LedgerError(f"cannot bring the Merkle cache up to date: {error}") from None
        if base is not None and frontier.root() != base.checkpoint.root_hash:
            raise LedgerError(
                f"refusing to sign: the Merkle cache ({self.tree.table_name}) does not "
                f"reproduce the last checkpoint at size {start}; rebuild it with "
                "`huiyan ledger checkpoint --rebuild-tree`"
            )
        return frontier

    def _check_cache(self, size: int, root: bytes) -> None:
        """Proofs come from the cache: it must hold exactly the tree the events make."""
        cached = self.tree.size
        if cached != size or self.tree.root(size) != root:
            raise LedgerError(
                f"refusing to sign: the Merkle cache ({self.tree.table_name}) holds a tree of "
                f"{cached} leaves that differs from the {size} entries' tree; rebuild it with "
                "`huiyan ledger checkpoint --rebuild-tree`"
            )

    def checkpoints(self, keys: dict[str, VerifierKey] | None = None) -> list[SignedCheckpoint]:
        """Every stored checkpoint whose signature verifies, oldest first (a row that does not
        is left out here, and reported by ``huiyan ledger verify``)."""
        keys = keys or self.verifier_keys()
        with self.engine.connect() as conn:
            notes = stored_notes(conn, self.events_table)
        valid = []
        for _, note in notes:
            try:
                if isinstance(note, str):
                    valid.append(parse_note(note, keys))
            except CheckpointError:
                continue
        return valid

    def latest_checkpoint(
        self, keys: dict[str, VerifierKey] | None = None
    ) -> SignedCheckpoint | None:
        """The newest valid checkpoint, checked with ``keys`` (default: our keyring)."""
        valid = self.checkpoints(keys)
        return valid[-1] if valid else None

    def verifier_keys(self) -> dict[str, VerifierKey]:
        return self.keyring.verifier_keys()

    def inclusion_proof(self, position: int) -> InclusionProof:
        """Prove an entry against the latest checkpoint (which must already include it); the
        proof is checked against the signed root before it is handed out."""
        latest = self.latest_checkpoint()
        if latest is None:
            raise LedgerError("no checkpoint yet: run `huiyan ledger checkpoint` first")
        size = latest.checkpoint.tree_size
        if not 0 <= position < size:
            raise LedgerError(
                f"position {position} is not in the latest checkpoint (tree size {size}); "
                "issue a new checkpoint first"
            )
        entry = self.entry(position)
        leaf = entry.derived_leaf()
        if leaf != entry.leaf_hash:
            raise LedgerError(f"the entry at position {position} does not match its leaf hash")
        self.tree.sync()
        path = self.tree.inclusion_proof(position, size)
        verify_inclusion(leaf, position, size, path, latest.checkpoint.root_hash)
        return InclusionProof(position, leaf, size, path, latest.note)

    def consistency_proof(self, old: SignedCheckpoint, new: SignedCheckpoint) -> list[bytes]:
        """A consistency proof between two checkpoints, checked against both signed roots."""
        self.tree.sync()
        return self._checked_proof(old.checkpoint.tree_size, old.checkpoint.root_hash, new)

    def consistency_proof_from(self, old_size: int, new: SignedCheckpoint) -> list[bytes]:
        """The proof a witness needs, from the bare size it last cosigned (none from size 0,
        as tlog-witness asks), checked against the signed new root. The old root is the
        cache's: the witness, holding the signed one, is the check that matters."""
        if old_size == 0:
            return []
        self.tree.sync()
        return self._checked_proof(old_size, self.tree.root(old_size), new)

    def _checked_proof(self, old_size: int, old_root: bytes, new: SignedCheckpoint) -> list[bytes]:
        new_size = new.checkpoint.tree_size
        proof = self.tree.consistency_proof(old_size, new_size)
        verify_consistency(old_size, new_size, old_root, new.checkpoint.root_hash, proof)
        return proof

    def witness(self, signed: SignedCheckpoint, now: datetime) -> list[WitnessOutcome]:
        """Ask each witness that has not cosigned ``signed`` yet, and keep what they cosign.

        The proof sent starts at the largest size the witness cosigned for this ledger (as
        far as the kept cosignatures tell); the exchange settles any difference (409)."""
        held = self.cosignatures(signed)
        store = self.cosignature_store
        outcomes = []
        for endpoint in self.witnesses:
            if endpoint.key.key_id in held:
                outcome = WitnessOutcome(endpoint, held[endpoint.key.key_id], already=True)
            else:
                outcome = ask_witness(
                    endpoint,
                    signed,
                    store.largest_size(endpoint.key, signed.checkpoint.tree_size),
                    lambda old: self.consistency_proof_from(old, signed),
                )
                if outcome.cosignature is not None:
                    store.keep(signed, outcome.cosignature, now)
            outcomes.append(outcome)
        return outcomes

    def cosignatures(
        self, signed: SignedCheckpoint, keys: dict[str, VerifierKey] | None = None
    ) -> dict[str, Cosignature]:
        """The kept cosignatures on ``signed`` that verify with ``keys`` (default: the
        configured witnesses' keys), by key id."""
        if keys is None:
            keys = {endpoint.key.key_id: endpoint.key for endpoint in self.witnesses}
        return self.cosignature_store.check(signed, keys).valid

    def cosigned_note(self, signed: SignedCheckpoint) -> str:
        """The signed note with the configured witnesses' valid cosignatures appended."""
        return signed.note + "".join(c.line for c in self.cosignatures(signed).values())


def keyring_for(settings: Settings) -> Keyring:
    return Keyring(settings.keys_dir, settings.origin, settings.key_path)
