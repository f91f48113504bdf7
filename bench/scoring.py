"""Benchmark: scoring time and peak memory per track (prints figures, asserts nothing).

    .venv/bin/python -m bench.scoring                     # full: 2D 100+1000, 3D 100 cases
    .venv/bin/python -m bench.scoring --tracks 6,7 --cases-2d 100 --cases-3d 10 --volumes 0

Data come from `scoring.synth.make_dataset`; the predictions echo the truth with noise
(probabilities jittered, masks copied and eroded at one slice), so every metric runs its full
path. Each measurement runs in a fresh process, so its peak RSS (imports included) is its own.
Target: each track's 1,000-case set (2D tracks) or 100-case set (3D tracks) in under 60 s on
2 cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import shutil
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import SimpleITK as sitk

TRACKS_3D = (1, 2, 3, 4, 5)


def _jitter(rng: random.Random, value: float) -> float:
    return min(1.0, max(0.0, 0.7 * value + 0.3 * rng.random()))


def _echo_masks(truth_dir: Path, out_dir: Path, relative: str, target: str, detection: bool):
    image = sitk.ReadImage(str(truth_dir / relative))
    array = sitk.GetArrayFromImage(image)
    array[array.shape[0] // 2] = 0  # one slice lost: Dice < 1, real surface distances
    if detection:
        array = ((array > 0) * 0.7).astype(np.float32)
    result = sitk.GetImageFromArray(array)
    result.CopyInformation(image)
    (out_dir / target).parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(result, str(out_dir / target))


def _echo_track(track: int, truth: dict, case_id: str, truth_dir: Path, out_dir: Path, rng):
    if track == 1:
        return {
            "nodules": [
                {
                    "x": n["x"],
                    "y": n["y"],
                    "z": n["z"],
                    "probability": _jitter(rng, 1.0),
                    "malignancy": _jitter(rng, float(n["malignant"])),
                }
                for n in truth["nodules"]
            ]
            + [{"x": 0.0, "y": 0.0, "z": 0.0, "probability": rng.random(), "malignancy": 0.5}]
        }
    if track == 3:
        return {
            "aneurysms": [
                {"x": a["x"], "y": a["y"], "z": a["z"], "probability": _jitter(rng, 1.0)}
                for a in truth["aneurysms"]
            ],
            "present": _jitter(rng, float(bool(truth["aneurysms"]))),
        }
    if track in (2, 4, 5):
        name = "detection_map" if track == 5 else "mask"
        target = f"{case_id}/{name}.nii.gz"
        _echo_masks(truth_dir, out_dir, truth["mask"], target, detection=track == 5)
        extra = {
            2: {"malignancy": _jitter(rng, float(truth.get("malignant", 0)))},
            4: {"grade_high": _jitter(rng, float(truth.get("grade_high", 0)))},
            5: {},
        }[track]
        return {name: target, **extra}
    if track == 6:
        return {"breasts": {k: _jitter(rng, float(v)) for k, v in truth["breasts"].items()}}
    if track == 7:
        classes = ["benign", "malignant", "no_nodule"]
        raw = [0.6 * (c == truth["label"]) + 0.4 * rng.random() for c in classes]
        return {"probabilities": {c: v / sum(raw) for c, v in zip(classes, raw, strict=True)}}
    return {"findings": {k: _jitter(rng, float(v)) for k, v in truth["findings"].items()}}


def write_predictions(track: int, dataset: Path, out_dir: Path, seed: int) -> Path:
    rng = random.Random(seed)
    truth_dir = dataset / "truth"
    cases = json.loads((truth_dir / "truth.json").read_text())["cases"]
    predicted = []
    for case in cases:
        authenticity = {
            c: float(c == case["authenticity"]) for c in ("real_human", "phantom", "non_human")
        }
        track_output = (
            _echo_track(track, case["track"], case["case_id"], truth_dir, out_dir, rng)
            if case["track"] is not None
            else None
        )
        predicted.append(
            {
                "case_id": case["case_id"],
                "authenticity": authenticity,
                "conformity": {
                    "duplicate_of": case["conformity"]["duplicate_of"],
                    "stitched": _jitter(rng, float(case["conformity"]["stitched"])),
                },
                "track": track_output,
            }
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "predictions.json"
    path.write_text(json.dumps({"cases": predicted}))
    return path


def _measure(track: int, cases: int, size, queue) -> None:
    from scoring.breakdown import score_track
    from scoring.rules import load_rules
    from scoring.synth import make_dataset
    from scoring.tracks import track_module

    folder = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    try:
        dataset = make_dataset(track, cases, folder / "data", seed=1, size=size)
        predictions = write_predictions(track, dataset, folder / "output", seed=2)
        rules = load_rules()
        track_module(track)  # import MONAI / picai before the clock starts
        start = time.perf_counter()
        scored = score_track(track, predictions, dataset / "truth" / "truth.json", rules)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put((seconds, peak_mb, scored.breakdown["primary"]["value"]))
    except BaseException:
        queue.put(traceback.format_exc())
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(track: int, cases: int, size=None) -> tuple[float, float, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(track, cases, size, queue))
    process.start()
    result = queue.get()
    process.join()
    if isinstance(result, str):
        raise RuntimeError(f"track {track}, {cases} cases failed:\n{result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--cases-2d", default="100,1000", help="case counts for tracks 6-8")
    parser.add_argument("--cases-3d", default="100", help="case counts for tracks 1-5")
    parser.add_argument("--volumes", type=int, default=3, help="256x256x128 cases, tracks 2, 4")
    args = parser.parse_args()
    print(f"{'track':>5} {'cases':>6} {'seconds':>9} {'s/case':>8} {'peak MB':>8} {'primary':>8}")
    for track in (int(t) for t in args.tracks.split(",")):
        counts = args.cases_3d if track in TRACKS_3D else args.cases_2d
        for cases in (int(n) for n in counts.split(",") if n):
            seconds, peak, primary = measure(track, cases)
            per_case = seconds / cases
            print(
                f"{track:>5} {cases:>6} {seconds:>9.2f} {per_case:>8.4f} {peak:>8.0f}"
                f" {primary:>8.4f}"
            )
    if args.volumes:
        for track in (2, 4):
            if str(track) in args.tracks.split(","):
                seconds, peak, _ = measure(track, args.volumes, size=(256, 256, 128))
                print(
                    f"track {track}: {seconds / args.volumes:.2f} s per 256x256x128 volume"
                    f" ({args.volumes} volumes, peak {peak:.0f} MB)"
                )


if __name__ == "__main__":
    main()
