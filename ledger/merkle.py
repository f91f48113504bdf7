"""RFC 9162 Merkle tree hashing, proofs and their verification, as pure functions over bytes.

Proofs are plain lists of 32-byte hashes in exactly the order of RFC 9162 PATH (§2.1.3.1) and
PROOF (§2.1.4.1), with 0-based leaf indices, so that any other RFC 9162 implementation
(transparency-dev/merkle, Trillian, Go's sumdb tlog) checks them, and ours checks theirs.

Proof generation is split in two so that the database tree (``ledger.tree``) shares it:
*which* subtrees make up a proof (``inclusion_ranges``, ``consistency_ranges``,
``perfect_subtrees``) depends on sizes only, and *their hashes* come either from the leaves
(here) or from stored nodes (there). The verifiers deliberately share nothing with the prover:
they are the RFC's own algorithms (§2.1.3.2, §2.1.4.2), so a mistake in the layout cannot hide
itself. Why this is not built on pymerkle: docs/merkle.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
"""Leaves ``[start, stop)`` of a tree, 0-based."""

NodeId = tuple[int, int]
"""``(level, index)``: the perfect subtree over leaves ``index << level`` up to
``(index + 1) << level``."""

StoredNode = tuple[int, int, bytes]
"""``(level, index, hash)``."""


class ProofError(ValueError):
    """A Merkle proof does not prove what it claims; the message says which check failed."""


LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def perfect_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two number of leaves, a level at a time (the fast path of a
    verifier that hashes whole aligned ranges)."""
    level = list(leaf_hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"a perfect subtree has a power of two leaves, not {len(level)}")
    sha256 = hashlib.sha256
    while len(level) > 1:
        level = [
            sha256(NODE_PREFIX + a + b).digest()
            for a, b in zip(level[::2], level[1::2], strict=True)
        ]
    return level[0]


def subtree_root(node_hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its ``perfect_subtrees``, given left to right.

    RFC 9162 splits a range at its largest power of two, so the left part is always perfect
    and the hash is the right fold of the perfect parts.
    """
    result = node_hashes[-1]
    for left in reversed(node_hashes[:-1]):
        result = node_hash(left, result)
    return result


class Frontier:
    """The right edge of a growing tree: the roots of its maximal perfect subtrees.

    It is all an appender needs (O(log n) hashes, never the leaves), so both the in-memory
    root and the database tree's ``sync`` grow trees through it. ``append`` hands back every
    node the new leaf completes, which is what the database stores.
    """

    def __init__(self, size: int = 0, roots: Sequence[bytes] = ()) -> None:
        if size < 0 or len(roots) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {max(size, 0).bit_count()} perfect-subtree "
                f"roots, not {len(roots)}"
            )
        self.size = size
        self._roots = list(roots)

    def append(self, leaf: bytes) -> list[StoredNode]:
        index, level, current = self.size, 0, leaf
        completed = [(0, index, leaf)]
        while index & 1:  # a right child: its left sibling is the last root
            current = node_hash(self._roots.pop(), current)
            index, level = index >> 1, level + 1
            completed.append((level, index, current))
        self._roots.append(current)
        self.size += 1
        return completed

    @property
    def roots(self) -> list[bytes]:
        """The perfect-subtree roots, left to right."""
        return list(self._roots)

    def root(self) -> bytes:
        return subtree_root(self._roots) if self._roots else EMPTY_ROOT


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaf_hashes:
        frontier.append(leaf)
    return frontier.root()


def root_hash(entries: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes([leaf_hash(entry) for entry in entries])


def _split(width: int) -> int:
    """The largest power of two smaller than ``width`` (RFC 9162's k), for width >= 2."""
    return 1 << ((width - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form PATH(index, D[size]), leaf level first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    start, stop = 0, size
    while stop - start > 1:
        k = _split(stop - start)
        if index < start + k:
            ranges.append((start + k, stop))
            stop = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose hashes form PROOF(old_size, D[new_size]), deepest first."""
    if old_size < 1:
        raise ValueError(f"no consistency proof from tree size {old_size}: sizes start at 1")
    if old_size > new_size:
        raise ValueError(f"old tree size {old_size} is larger than new tree size {new_size}")
    ranges: list[Range] = []
    start, stop, old_leaves, is_whole_old_tree = 0, new_size, old_size, True
    while old_leaves != stop - start:
        k = _split(stop - start)
        if old_leaves <= k:
            ranges.append((start + k, stop))
            stop = start + k
        else:
            ranges.append((start, start + k))
            start, old_leaves, is_whole_old_tree = start + k, old_leaves - k, False
    if not is_whole_old_tree:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        ranges.append((start, stop))
    ranges.reverse()
    return ranges


def perfect_subtrees(start: int, stop: int) -> list[NodeId]:
    """The perfect subtrees that make up an RFC 9162 range, left to right."""
    nodes: list[NodeId] = []
    while start < stop:
        level = (stop - start).bit_length() - 1
        if start % (1 << level):
            raise ValueError(f"[{start}, {stop}) is not a subtree range of an RFC 9162 tree")
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _hashes_of(leaf_hashes: Sequence[bytes], ranges: list[Range]) -> list[bytes]:
    return [root_from_leaf_hashes(leaf_hashes[start:stop]) for start, stop in ranges]


def inclusion_proof(entries: Sequence[bytes], index: int) -> list[bytes]:
    leaves = [leaf_hash(entry) for entry in entries]
    return _hashes_of(leaves, inclusion_ranges(index, len(leaves)))


def consistency_proof(entries: Sequence[bytes], old_size: int) -> list[bytes]:
    leaves = [leaf_hash(entry) for entry in entries]
    return _hashes_of(leaves, consistency_ranges(old_size, len(leaves)))


def _check_hash(what: str, value: object) -> None:
    if not isinstance(value, bytes):
        raise ProofError(f"{what} is a {type(value).__name__}, not bytes")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes long, not {HASH_SIZE}")


def _check_proof(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(f"proof hash {position}", value)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless ``proof`` puts the leaf under ``root``."""
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    _check_proof(proof)
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is not in a tree of size {tree_size}")
    fn, sn, result = index, tree_size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError(
                f"inclusion proof of {len(proof)} hashes is too long for leaf {index} "
                f"of a tree of size {tree_size}"
            )
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(
            f"inclusion proof of {len(proof)} hashes is too short for leaf {index} "
            f"of a tree of size {tree_size}"
        )
    if result != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the given root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the old tree is a prefix of the new one."""
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    _check_proof(proof)
    if old_size < 1:
        raise ProofError(f"a consistency proof from tree size {old_size} proves nothing")
    if old_size > new_size:
        raise ProofError(f"old tree size {old_size} is larger than new tree size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    if not proof:
        raise ProofError(f"empty consistency proof from size {old_size} to {new_size}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a whole subtree: its root is implied
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_result = new_result = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError(
                f"consistency proof of {len(proof)} hashes is too long "
                f"from size {old_size} to {new_size}"
            )
        if fn & 1 or fn == sn:
            old_result = node_hash(node, old_result)
            new_result = node_hash(node, new_result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new_result = node_hash(new_result, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(
            f"consistency proof of {len(proof)} hashes is too short "
            f"from size {old_size} to {new_size}"
        )
    if old_result != old_root:
        raise ProofError(f"consistency proof does not lead to the old root (size {old_size})")
    if new_result != new_root:
        raise ProofError(f"consistency proof does not lead to the new root (size {new_size})")
