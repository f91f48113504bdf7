"""What one run holds while it lasts: a uid of its own and an output folder capped in size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workers.sandbox.contract import Limits
from workers.sandbox.outputs import capped_output_dir
from workers.sandbox.uids import run_uid


@contextmanager
def run_slot(output_dir: Path, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """(the run's uid, warnings about the output cap), released when the block ends."""
    with (
        run_uid() as uid,
        capped_output_dir(
            output_dir,
            max_bytes=limits.output_bytes,
            max_files=limits.output_files,
            uid=uid,
            gid=uid,
        ) as warnings,
    ):
        yield uid, warnings
