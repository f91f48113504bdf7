"""Cases scored side by side: a process pool for large 3D sets, results in case order.

A set of 3D volumes is worth spreading over every core: `map_cases` runs one case per task on
a pool of processes when more than one core is available and the set holds at least
`PARALLEL_MIN_VOXELS` voxels (two 256 x 256 x 128 volumes); a smaller set runs in this
process. Either way the results come back in the order of the cases, and every case computes
on one torch thread (`one_thread`): a sum split over threads adds in another order, and a
score must be the same bytes on any machine with any number of cores.

Workers are forked when this process runs a single thread, as torch's own DataLoader does
(each worker then sets torch to one thread before any work): they start at once and share the
imported libraries. A process with other threads running forks nothing, since a lock held by
one of them would stay locked in the child for ever; it starts its workers from a fork server
instead, which costs one import of torch and MONAI (about 5 s here), so then the pool is used
only for sets `FORKSERVER_FACTOR` times as large. The pool lives as long as one set.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_VOXELS = 2 * 256 * 256 * 128
FORKSERVER_FACTOR = 16
_PRELOAD = ["scoring.segmentation", "scoring.tracks.track5_prostate"]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def map_cases(
    function: Callable[[T], R], cases: Sequence[T], *, voxels: int, workers: int | None = None
) -> list[R]:
    """``[function(case) for case in cases]``, on up to ``workers`` processes (None: one per
    available core) when the set is large enough to repay starting them."""
    count = min(available_cores() if workers is None else workers, len(cases))
    forking = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    minimum = PARALLEL_MIN_VOXELS * (1 if forking else FORKSERVER_FACTOR)
    if count < 2 or voxels < minimum:
        return [function(case) for case in cases]
    if forking:
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker) as pool:
        return list(pool.map(function, cases))


def _start_worker() -> None:
    import torch

    torch.set_num_threads(1)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread for the block (restored after), so sums add in one order."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
