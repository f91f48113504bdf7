"""Tree heads at any size from ranges checked apart, without hashing the whole tree twice.

A verifier's workers each re-derive the leaves of an aligned range of positions (a power of
two wide) and hand back the range's perfect-subtree hashes; the root at a size is then the
chunk-level frontier of the full ranges before it plus the subtrees of the partial one. So
the parent hashes O(n / chunk) nodes per tree head, not n.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    perfect_root,
    perfect_subtrees,
    subtree_root,
)


def range_subtree_hashes(start: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The hashes of ``perfect_subtrees(start, start + len(leaves))``, left to right."""
    hashes = []
    for level, index in perfect_subtrees(start, start + len(leaves)):
        first = (index << level) - start
        hashes.append(perfect_root(leaves[first : first + (1 << level)]))
    return hashes


class CheckedRange(Protocol):
    start: int
    stop: int
    leaves: bytes
    subtree_hashes: list[bytes]


class RangeRoots:
    """Tree heads over the gapless prefix of the ledger (``prefix`` entries): past the first
    missing position there is no tree to speak of."""

    def __init__(self, chunk: int, ranges: Sequence[CheckedRange], prefix: int) -> None:
        self.chunk = chunk
        self.ranges = list(ranges)
        self.prefix = prefix

    def covers(self, size: int) -> bool:
        return size <= self.prefix

    def leaf(self, position: int) -> bytes:
        found = self.ranges[position // self.chunk]
        offset = 32 * (position - found.start)
        return found.leaves[offset : offset + 32]

    def root(self, size: int) -> bytes:
        """The root of the tree of the first ``size`` re-derived leaves."""
        if not self.covers(size):
            raise ValueError(f"positions are missing below {size}")
        if size == 0:
            return EMPTY_ROOT
        full, remainder = divmod(size, self.chunk)
        frontier = Frontier()
        for checked in self.ranges[:full]:
            frontier.append(checked.subtree_hashes[0])
        parts = frontier.roots
        if remainder:
            partial = self.ranges[full]
            if partial.stop == size:
                parts += partial.subtree_hashes
            else:
                leaves = [self.leaf(p) for p in range(partial.start, size)]
                parts += range_subtree_hashes(partial.start, leaves)
        return subtree_root(parts)
