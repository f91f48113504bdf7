"""K of N: does a checkpoint carry enough valid cosignatures from the witnesses an auditor trusts?

A cosignature counts only when it verifies, with one of the witness keys the caller gives, over
the checkpoint's own text; lines by other keys are ignored. The finding names each witness
whose cosignature is missing or does not verify, so an operator knows whom to ask again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.checkpoint import SignedCheckpoint, note_parts
from ledger.cosignature import check_cosignatures
from ledger.keys import VerifierKey
from ledger.report import WITNESSES, Problem


def witness_problems(
    signed: SignedCheckpoint | None,
    lines: Iterable[str],
    keys: dict[str, VerifierKey],
    required: int,
) -> list[Problem]:
    """No problem when at least ``required`` of ``keys`` validly cosigned ``signed``."""
    if signed is None:
        return [Problem(None, WITNESSES, "no checkpoint to look for witness cosignatures on")]
    check = check_cosignatures(note_parts(signed.note)[0], lines, keys)
    if len(check.valid) >= required:
        return []
    size = signed.checkpoint.tree_size
    faults = [
        f"invalid from {key.name} ({key_id}): {check.invalid[key_id]}"
        if key_id in check.invalid
        else f"missing from {key.name} ({key_id})"
        for key_id, key in keys.items()
        if key_id not in check.valid
    ]
    detail = (
        f"the checkpoint at size {size} has {len(check.valid)} valid witness cosignatures, "
        f"{required} required; {'; '.join(faults)}"
    )
    return [Problem(None, WITNESSES, detail, (signed.note,))]
