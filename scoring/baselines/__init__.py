"""Baseline model bundles, one per track: the reference submission the platform can run.

The repository keeps one ``predict.py`` for every track and each track's ``track<N>/weights.pt``
(``python -m scoring.baselines.train`` rebuilds the weights). A bundle is what a team would
upload, a self-contained folder, so ``bundle_path`` assembles ``predict.py`` and the track's
weights into one, once per content, under the system's temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREDICT = HERE / "predict.py"


def weights_path(track: int) -> Path:
    path = HERE / f"track{track}" / "weights.pt"
    if not path.is_file():
        raise ValueError(f"no baseline bundle for track {track} (tracks are 1 to 8)")
    return path


def bundle_path(track: int) -> Path:
    """A bundle folder of the track's baseline model (``predict.py`` + ``weights.pt``),
    readable by everyone, as the sandbox's unprivileged user must read it."""
    weights = weights_path(track)
    digest = hashlib.sha256(PREDICT.read_bytes() + weights.read_bytes()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "huiyan-baselines" / f"track{track}-{digest}"
    if (folder / "predict.py").is_file():
        return folder
    folder.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".building-"))
    for source in (PREDICT, weights):
        shutil.copyfile(source, staging / source.name)
        os.chmod(staging / source.name, 0o644)
    os.chmod(staging, 0o755)
    try:
        os.rename(staging, folder)
    except OSError:  # built at the same moment by another process
        shutil.rmtree(staging, ignore_errors=True)
    return folder
