"""ledger.merkle against the RFC 6962/9162 reference vectors, pymerkle, and its own verifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pymerkle
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    root_from_leaf_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "transparency_dev_rfc6962.json").read_text()
)
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves_hex"]]
ROOTS = [bytes.fromhex(root) for root in VECTORS["roots_by_size"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _hashes(hex_list: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in hex_list]


# --- known answers ---------------------------------------------------------------------------


def test_empty_tree_hashes_to_sha256_of_nothing():
    assert root_hash([]) == EMPTY_ROOT == ROOTS[0]


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_roots_match_reference_vectors(size):
    assert root_hash(LEAVES[:size]) == ROOTS[size]


def test_leaf_and_node_hashes_match_reference_vectors():
    levels = [_hashes(level) for level in VECTORS["node_hashes_by_level"]]
    assert [leaf_hash(leaf) for leaf in LEAVES] == levels[0]
    for level in range(1, len(levels)):
        below = levels[level - 1]
        pairs = [node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)]
        assert pairs == levels[level]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_proofs_match_reference_vectors(case):
    index, size, expected = case["index"], case["size"], _hashes(case["proof"])
    assert inclusion_proof(LEAVES[:size], index) == expected
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, expected, ROOTS[size])


@pytest.mark.parametrize(
    "case", VECTORS["consistency"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_consistency_proofs_match_reference_vectors(case):
    old, new, expected = case["old_size"], case["new_size"], _hashes(case["proof"])
    assert consistency_proof(LEAVES[:new], old) == expected
    verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


def _layout(ranges):
    return [[list(node) for node in perfect_subtrees(*r)] for r in ranges]


@pytest.mark.parametrize(
    "case", VECTORS["inclusion_layouts"], ids=lambda c: f"{c['index']}-{c['size']}"
)
def test_inclusion_layouts_match_transparency_dev(case):
    assert _layout(inclusion_ranges(case["index"], case["size"])) == case["nodes"]


@pytest.mark.parametrize(
    "case", VECTORS["consistency_layouts"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_consistency_layouts_match_transparency_dev(case):
    assert _layout(consistency_ranges(case["old_size"], case["new_size"])) == case["nodes"]


@pytest.mark.parametrize("size, index", VECTORS["inclusion_layout_errors"])
def test_inclusion_layout_refuses_what_transparency_dev_refuses(size, index):
    with pytest.raises(ValueError, match="not in a tree of size"):
        inclusion_ranges(index, size)


@pytest.mark.parametrize("old, new", VECTORS["consistency_layout_errors"])
def test_consistency_layout_refuses_what_transparency_dev_refuses(old, new):
    with pytest.raises(ValueError, match="larger than new tree size"):
        consistency_ranges(old, new)


def _inclusion_probes(index, size, proof, root, leaf):
    """transparency-dev's corruptInclusionProof, minus the wrong-length leaf/root probes."""
    probes = [
        (index ^ 2, size, root, leaf, proof),
        (index, size * 2, root, leaf, proof),
        (index, size // 2, root, leaf, proof),
        (index, size, EMPTY_ROOT, leaf, proof),
        (index, size, SOME_HASH, leaf, proof),
        (index, size, root, leaf, [*proof, root]),
        (index, size, root, leaf, [root, *proof]),
    ]
    if index > 0:
        probes.append((index - 1, size, root, leaf, proof))
    if index + 1 < size:
        probes.append((index + 1, size, root, leaf, proof))
    return probes


@pytest.mark.parametrize("case", VECTORS["inclusion"][1:], ids=lambda c: f"{c['index']}")
def test_corrupted_reference_inclusion_proofs_fail(case):
    index, size, proof = case["index"], case["size"], _hashes(case["proof"])
    for probe in _inclusion_probes(index, size, proof, ROOTS[size], leaf_hash(LEAVES[index])):
        with pytest.raises(ProofError):
            verify_inclusion(probe[3], probe[0], probe[1], probe[4], probe[2])


@pytest.mark.parametrize(
    "case", VECTORS["consistency"][1:], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_corrupted_reference_consistency_proofs_fail(case):
    old, new, proof = case["old_size"], case["new_size"], _hashes(case["proof"])
    root1, root2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, root1, root2, proof),
        (old + 1, new, root1, root2, proof),
        (old ^ 2, new, root1, root2, proof),
        (old, new * 2, root1, root2, proof),
        (old, new // 2, root1, root2, proof),
        (old, new, root2, root1, proof),
        (old, new, root1, root2, []),
        (old, new, root1, root2, [*proof, root1]),
        (old, new, root1, root2, [*proof, root2]),
        (old, new, root1, root2, [root1, *proof]),
        (old, new, root1, root2, [root2, *proof]),
        (old, new, root1, root2, [proof[0], *proof]),
        (old, new, root1, root2, proof[:-1]),
    ]
    for probe in probes:
        with pytest.raises(ProofError):
            verify_consistency(*probe)


# --- agreement with pymerkle, an independent implementation ----------------------------------


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_roots_and_inclusion_paths_agree_with_pymerkle(entries, data):
    tree = pymerkle.InmemoryTree.init_from_entries(entries)
    assert root_hash(entries) == tree.get_root()
    index = data.draw(st.integers(0, len(entries) - 1))
    # pymerkle's path is 1-based and starts with the leaf itself; RFC 9162 PATH does not.
    assert inclusion_proof(entries, index) == tree.prove_inclusion(index + 1).path[1:]


# --- properties ------------------------------------------------------------------------------

distinct_entries = st.lists(st.binary(max_size=6), min_size=1, max_size=80, unique=True)


def _flip_bit(proof, data):
    position = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 8 * 32 - 1))
    altered = bytearray(proof[position])
    altered[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:position], bytes(altered), *proof[position + 1 :]]


def _alter(proof, data):
    """A proof with one hash flipped, dropped or added (never the same list)."""
    choices = ["add"] + (["flip", "drop"] if proof else [])
    how = data.draw(st.sampled_from(choices))
    if how == "flip":
        return _flip_bit(proof, data)
    position = data.draw(st.integers(0, len(proof) - (how == "drop")))
    if how == "drop":
        return proof[:position] + proof[position + 1 :]
    extra = data.draw(st.binary(min_size=32, max_size=32))
    return [*proof[:position], extra, *proof[position:]]


@given(distinct_entries, st.data())
def test_every_inclusion_proof_verifies_and_every_alteration_fails(entries, data):
    size = len(entries)
    index = data.draw(st.integers(0, size - 1))
    root, leaf = root_hash(entries), leaf_hash(entries[index])
    proof = inclusion_proof(entries, index)
    verify_inclusion(leaf, index, size, proof, root)

    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, _alter(proof, data), root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, _flip_bit([root], data)[0])
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(entries[index] + b"!"), index, size, proof, root)
    other = data.draw(st.integers(0, 2 * size).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other, size, proof, root)


@given(distinct_entries, st.data())
def test_inclusion_proof_for_a_size_of_another_shape_fails(entries, data):
    # RFC 9162 proofs do not carry the size: a size whose path has the same length and
    # turns can check out (e.g. leaf 0 of 3 and of 4). Checkpoints bind the size instead.
    size = len(entries)
    index = data.draw(st.integers(0, size - 1))
    other = data.draw(st.integers(index + 1, 4 * size).filter(lambda s: s != size))
    assume(len(inclusion_ranges(index, other)) != len(inclusion_ranges(index, size)))
    proof = inclusion_proof(entries, index)
    with pytest.raises(ProofError, match="too (long|short)"):
        verify_inclusion(leaf_hash(entries[index]), index, other, proof, root_hash(entries))


@given(distinct_entries, st.data())
def test_every_consistency_proof_verifies_and_every_alteration_fails(entries, data):
    new = len(entries)
    old = data.draw(st.integers(1, new))
    old_root, new_root = root_hash(entries[:old]), root_hash(entries)
    proof = consistency_proof(entries, old)
    verify_consistency(old, new, old_root, new_root, proof)

    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, _alter(proof, data))
    with pytest.raises(ProofError):
        verify_consistency(old, new, _flip_bit([old_root], data)[0], new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, _flip_bit([new_root], data)[0], proof)


@given(distinct_entries, st.data())
def test_consistency_proof_for_sizes_of_another_shape_fails(entries, data):
    new = len(entries)
    old = data.draw(st.integers(1, new))
    other_old = data.draw(st.integers(-2, new + 3))
    other_new = data.draw(st.integers(0, 2 * new + 1))
    assume((other_old, other_new) != (old, new))
    assume(
        not 1 <= other_old <= other_new
        or len(consistency_ranges(other_old, other_new)) != len(consistency_ranges(old, new))
    )
    proof = consistency_proof(entries, old)
    with pytest.raises(ProofError):
        verify_consistency(
            other_old, other_new, root_hash(entries[:old]), root_hash(entries), proof
        )


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=200))
def test_frontier_grows_to_the_same_root_as_a_whole_tree(leaf_hashes):
    frontier = Frontier()
    for count, leaf in enumerate(leaf_hashes, 1):
        completed = frontier.append(leaf)
        assert completed[0] == (0, count - 1, leaf)
        assert frontier.root() == root_from_leaf_hashes(leaf_hashes[:count])


# --- refusals --------------------------------------------------------------------------------


def test_consistency_from_size_zero_is_refused():
    with pytest.raises(ProofError, match="from tree size 0"):
        verify_consistency(0, 3, EMPTY_ROOT, ROOTS[3], [])
    with pytest.raises(ProofError, match="from tree size 0"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ValueError, match="from tree size 0"):
        consistency_proof(LEAVES, 0)


def test_equal_sizes_need_an_empty_proof_and_equal_roots():
    verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])


@pytest.mark.parametrize("length", [0, 31, 33])
def test_hashes_that_are_not_32_bytes_are_refused(length):
    bad = b"\x01" * length
    proof = inclusion_proof(LEAVES, 5)
    leaf = leaf_hash(LEAVES[5])
    with pytest.raises(ProofError, match=f"leaf hash is {length} bytes"):
        verify_inclusion(bad, 5, 8, proof, ROOTS[8])
    with pytest.raises(ProofError, match=f"^root is {length} bytes"):
        verify_inclusion(leaf, 5, 8, proof, bad)
    with pytest.raises(ProofError, match=f"proof hash 1 is {length} bytes"):
        verify_inclusion(leaf, 5, 8, [proof[0], bad, proof[2]], ROOTS[8])
    with pytest.raises(ProofError, match=f"old root is {length} bytes"):
        verify_consistency(6, 8, bad, ROOTS[8], consistency_proof(LEAVES, 6))
    with pytest.raises(ProofError, match=f"proof hash 0 is {length} bytes"):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [bad])


def test_a_proof_hash_must_be_bytes():
    with pytest.raises(ProofError, match="proof hash 0 is a str"):
        verify_inclusion(leaf_hash(b""), 0, 2, ["00" * 32], ROOTS[2])


def test_index_out_of_range_is_refused():
    with pytest.raises(ProofError, match="leaf index 8 is not in a tree of size 8"):
        verify_inclusion(leaf_hash(LEAVES[0]), 8, 8, [], ROOTS[8])
    with pytest.raises(ProofError, match="leaf index -1"):
        verify_inclusion(leaf_hash(LEAVES[0]), -1, 8, [], ROOTS[8])
    with pytest.raises(ValueError, match="leaf index 8 is not in a tree of size 8"):
        inclusion_proof(LEAVES, 8)


def test_messages_say_too_long_or_too_short():
    proof = inclusion_proof(LEAVES, 5)
    leaf = leaf_hash(LEAVES[5])
    with pytest.raises(ProofError, match="3 hashes is too short for leaf 5 of a tree of size 16"):
        verify_inclusion(leaf, 5, 16, proof, ROOTS[8])
    with pytest.raises(ProofError, match="4 hashes is too long"):
        verify_inclusion(leaf, 5, 8, [*proof, ROOTS[8]], ROOTS[8])
    with pytest.raises(ProofError, match="does not lead to the given root"):
        verify_inclusion(leaf, 5, 8, proof, ROOTS[7])


def test_perfect_subtrees_refuses_a_range_no_rfc_tree_has():
    with pytest.raises(ValueError, match=r"\[1, 3\) is not a subtree range"):
        perfect_subtrees(1, 3)
