"""What a verification found: problems, each named by a kind and the first position it touches.

The kinds are the vocabulary of ``huiyan ledger verify`` and of docs/ledger.md; a monitoring
script can rely on them (and on the exit codes: 0 intact, 1 not intact, 2 unusable input).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

DELETED = "deleted"
INSERTED = "inserted"
REORDERED = "reordered"
MODIFIED = "modified"
BAD_SIGNATURE = "bad signature"
UNKNOWN_KEY = "unknown key"
RETIRED_KEY = "retired key"
REVOKED_KEY = "revoked key"
BAD_HANDOVER = "bad handover"
TRUNCATED = "truncated"
CHECKPOINT = "checkpoint"
FORK = "fork"
# Fewer valid witness cosignatures on the checked checkpoint than the caller demanded.
WITNESSES = "witnesses"
# An event whose personal signature does not verify (checked by audit/signatures.py).
PERSONAL_SIGNATURE = "personal signature"

KINDS = (
    DELETED,
    INSERTED,
    REORDERED,
    MODIFIED,
    BAD_SIGNATURE,
    UNKNOWN_KEY,
    RETIRED_KEY,
    REVOKED_KEY,
    BAD_HANDOVER,
    TRUNCATED,
    CHECKPOINT,
    FORK,
    WITNESSES,
    PERSONAL_SIGNATURE,
)

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    """One finding. ``position`` is None when the problem is not at one entry (a checkpoint
    row that does not parse, rows with no usable position); ``notes`` carries the signed
    checkpoints that prove a fork."""

    position: int | None
    kind: str
    detail: str
    notes: tuple[str, ...] = ()


@dataclass
class Report:
    size: int = 0
    root_hash: str = ""
    signatures_checked: bool = True
    checkpoints_checked: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_left_out: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_bad_position(self) -> int | None:
        positions = [p.position for p in self.problems if p.position is not None]
        return min(positions) if positions else None

    def add(self, problems: list[Problem]) -> None:
        """Keep the problems in position order (those without one last), at most
        MAX_PROBLEMS of them, counting what is left out."""
        merged = sorted(
            [*self.problems, *problems],
            key=lambda p: (p.position is None, p.position or 0),
        )
        self.problems_left_out += max(len(merged) - MAX_PROBLEMS, 0)
        self.problems = merged[:MAX_PROBLEMS]

    def as_json(self) -> dict[str, object]:
        return {
            "intact": self.intact,
            "size": self.size,
            "root_hash": self.root_hash,
            "signatures_checked": self.signatures_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad_position": self.first_bad_position,
            "problems": [asdict(p) for p in self.problems],
            "problems_left_out": self.problems_left_out,
        }
