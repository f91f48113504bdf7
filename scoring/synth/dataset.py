"""Write a synthetic dataset in the layout the runner and the scorer read.

```
OUT/input/cases.json            [{"case_id", "files": {role: "<case_id>/<role><ext>"}}]
OUT/input/<case_id>/<role><ext> one image per role (.nii.gz for 3-D, .png for 2-D)
OUT/truth/truth.json            {"cases": [CaseTruth, ...]} as SCORING.md section 1
OUT/truth/<case_id>/mask.nii.gz label map for tracks 2, 4 and 5, on the images' grid
```

Each case is drawn from its own random stream (seed, track, case number), so a duplicate or
a stitched case re-draws its source instead of keeping every image in memory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from scoring.synth import gates
from scoring.synth.base import Case, Grid, TrackSpec
from scoring.synth.registry import SPECS

#: the repeating order of case kinds; gate cases come after the real cases they copy
SCHEDULE = (
    "real", "real", "real", "phantom", "real", "duplicate",
    "real", "non_human", "real", "stitched", "real", "near_duplicate",
)  # fmt: skip
COPIES = {"duplicate", "near_duplicate"}


class SynthError(ValueError):
    """A request for a dataset that cannot be made, naming the argument at fault."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


def case_id(number: int) -> str:
    return f"c{number + 1:04d}"


def make_dataset(
    track: int, cases: int, out: Path, seed: int, size: Sequence[int] | None = None
) -> Path:
    """Write ``cases`` synthetic cases of ``track`` under ``out`` and return ``out``.

    The same arguments give the same bytes. ``out`` must be absent or empty; the dataset is
    built beside it and moved into place, so a failure leaves nothing half-written.
    """
    if track not in SPECS:
        raise SynthError("track", f"track {track} does not exist: tracks are 1 to {len(SPECS)}")
    if cases < 1:
        raise SynthError("cases", f"cases must be at least 1, got {cases}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SynthError("out", f"output directory {out} exists and is not empty")
    spec = SPECS[track]
    try:
        grid = spec.grid(size)
    except ValueError as error:
        raise SynthError("size", str(error)) from error
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(spec, grid, cases, seed, staging)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _stream(seed: int, track: int, number: int) -> np.random.Generator:
    return np.random.default_rng([seed, track, number])


class _Planner:
    """Decides what each case is and draws it, re-drawing real cases when others copy them."""

    def __init__(self, spec: TrackSpec, grid: Grid, seed: int) -> None:
        self.spec, self.grid, self.seed = spec, grid, seed
        self.originals: list[int] = []

    def real(self, number: int) -> Case:
        return self.spec.render(_stream(self.seed, self.spec.track, number), self.grid)

    def draw(self, number: int) -> tuple[Case, dict[str, Any]]:
        """The case and its truth, less the track truth of a real image."""
        kind = SCHEDULE[number % len(SCHEDULE)]
        rng = _stream(self.seed, self.spec.track, number)
        gate = {"authenticity": "real_human", "duplicate_of": None, "stitched": False}
        if kind in COPIES and self.originals:
            source = int(rng.choice(self.originals))
            case = self.real(source)
            if kind == "near_duplicate":
                case = gates.near_duplicate(case, rng)
            return case, {**gate, "duplicate_of": case_id(source)}
        if kind == "stitched" and len(self.originals) >= 2:
            left, right = rng.choice(self.originals, size=2, replace=False)
            shift = self.grid.size[0] // 8
            column = self.grid.size[0] // 2 + int(rng.integers(-shift, shift + 1))
            case = gates.stitched(self.real(int(left)), self.real(int(right)), column)
            return case, {**gate, "stitched": True}
        if kind == "phantom":
            return gates.phantom(self.spec, self.grid, rng), {**gate, "authenticity": "phantom"}
        if kind == "non_human":
            case = gates.non_human(self.spec, self.grid, rng)
            return case, {**gate, "authenticity": "non_human"}
        self.originals.append(number)
        return self.real(number), gate


def _write(spec: TrackSpec, grid: Grid, cases: int, seed: int, root: Path) -> None:
    planner = _Planner(spec, grid, seed)
    listing, truths = [], []
    for number in range(cases):
        cid = case_id(number)
        case, gate = planner.draw(number)
        files = {}
        for role in spec.roles:
            files[role] = f"{cid}/{role}{spec.extension}"
            _save(grid.image(cast(case.images[role], spec.dtype)), root / "input" / files[role])
        listing.append({"case_id": cid, "files": files})
        scored = gate["authenticity"] == "real_human" and gate["duplicate_of"] is None
        track_truth = None
        if scored:
            track_truth = spec.truth(case, grid)
            if spec.writes_mask:
                mask = f"{cid}/mask.nii.gz"
                _save(grid.image(case.labels), root / "truth" / mask)
                track_truth = {"mask": mask, **track_truth}
        truths.append(
            {
                "case_id": cid,
                "authenticity": gate["authenticity"],
                "conformity": {"duplicate_of": gate["duplicate_of"], "stitched": gate["stitched"]},
                "track": track_truth,
            }
        )
    _save_json(root / "input" / "cases.json", listing)
    _save_json(root / "truth" / "truth.json", {"cases": truths})


def cast(image: np.ndarray, dtype: type) -> np.ndarray:
    limits = np.iinfo(dtype)
    return np.clip(np.rint(image), limits.min, limits.max).astype(dtype)


def _save(image: sitk.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)


def _save_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
