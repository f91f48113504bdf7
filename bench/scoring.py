"""Benchmark: scoring time and peak memory per track (prints figures, asserts nothing).

    .venv/bin/python -m bench.scoring                     # full: 2D 100+1000, 3D 100 cases
    .venv/bin/python -m bench.scoring --tracks 6,7 --cases-2d 100 --cases-3d 10 --volumes 0
    .venv/bin/python -m bench.scoring --tracks 2,4,5 --cases-3d "" --volumes 100

Data come from `scoring.synth.make_dataset`; the predictions echo the truth with noise
(probabilities jittered, masks copied and eroded at one slice), so every metric runs its full
path. Each measurement runs in a fresh process, so its peak RSS (imports included) is its own.
Target: each track's 1,000-case set (2D tracks) or 100-case set (3D tracks) in under 60 s on
2 cores.

``--volumes N`` then scores N cases of 256 x 256 x 128 for tracks 2, 4 and 5 three ways and
prints two ratios: huiyan on one core against the *floor*, and huiyan on every core against
the same floor. The floor is the library work alone, on one core, on the same files: read
both files with SimpleITK, then for tracks 2 and 4 the box cut and region channels huiyan
gives MONAI and one call of each MONAI function over all regions (`compute_dice`, and
`compute_surface_dice` or `compute_hausdorff_distance`); for track 5 one call of
`picai_eval.evaluate`. No validation, no hashing, no label checks. Target: one core <= 1.15 x
the floor. ``--distinct`` volumes are drawn (drawing is slow) and copied to make up N.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
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


def in_fresh_process(target, *arguments):
    """``target(*arguments, queue)`` in a new interpreter: what it puts on the queue, or the
    traceback it put there raised here."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*arguments, queue))
    process.start()
    result = queue.get()
    process.join()
    if isinstance(result, str):
        raise RuntimeError(f"{target.__name__}{arguments} failed:\n{result}")
    return result


def measure(track: int, cases: int, size=None) -> tuple[float, float, float]:
    return in_fresh_process(_measure, track, cases, size)


# --- N volumes of 256 x 256 x 128: huiyan against the libraries alone --------------------------

VOLUME_TRACKS = (2, 4, 5)
VOLUME_SIZE = (256, 256, 128)


def tile_dataset(track: int, folder: Path, volumes: int, distinct: int) -> tuple[Path, Path, int]:
    """A set of at least ``volumes`` scored cases, copied from ``distinct`` drawn ones; each
    copy gets its own case ids and files. Returns (predictions, truth, scored cases)."""
    from scoring.synth import make_dataset

    dataset = make_dataset(track, distinct, folder / "drawn", seed=1, size=VOLUME_SIZE)
    drawn_predictions = write_predictions(track, dataset, folder / "drawn-output", seed=2)
    truth_cases = json.loads((dataset / "truth" / "truth.json").read_text())["cases"]
    predicted_cases = {c["case_id"]: c for c in json.loads(drawn_predictions.read_text())["cases"]}
    scored = sum(c["track"] is not None for c in truth_cases)
    copies = -(-volumes // scored)
    truth_dir, output_dir = folder / "truth", folder / "output"
    tiled_truth, tiled_predictions = [], []
    for copy in range(copies):
        rename = {c["case_id"]: f"{c['case_id']}r{copy:03d}" for c in truth_cases}
        for truth_case in truth_cases:
            old = truth_case["case_id"]
            for document, source, target, out in (
                (truth_case, dataset / "truth", truth_dir, tiled_truth),
                (predicted_cases[old], drawn_predictions.parent, output_dir, tiled_predictions),
            ):
                case = json.loads(json.dumps(document))
                case["case_id"] = rename[old]
                conformity = case["conformity"]
                if conformity["duplicate_of"] is not None:
                    conformity["duplicate_of"] = rename[conformity["duplicate_of"]]
                for key, value in (case["track"] or {}).items():
                    if isinstance(value, str) and value.startswith(f"{old}/"):
                        relative = rename[old] + value[len(old) :]
                        (target / relative).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(source / value, target / relative)
                        case["track"][key] = relative
                out.append(case)
    truth_dir.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "truth.json").write_text(json.dumps({"cases": tiled_truth}))
    (output_dir / "predictions.json").write_text(json.dumps({"cases": tiled_predictions}))
    return output_dir / "predictions.json", truth_dir / "truth.json", copies * scored


def _file_pairs(track: int, predictions: Path, truth: Path) -> list[tuple[str, Path, Path]]:
    predicted = {c["case_id"]: c for c in json.loads(predictions.read_text())["cases"]}
    name = "detection_map" if track == 5 else "mask"
    return [
        (
            c["case_id"],
            predictions.parent / predicted[c["case_id"]]["track"][name],
            truth.parent / c["track"]["mask"],
        )
        for c in json.loads(truth.read_text())["cases"]
        if c["track"] is not None
    ]


def floor(track: int, pairs: list[tuple[str, Path, Path]], rules) -> None:
    """The libraries alone on the same files (see the module's docstring)."""
    if track == 5:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            import picai_eval

        picai_eval.evaluate(
            y_det=(sitk.GetArrayFromImage(sitk.ReadImage(str(p))) for _, p, _ in pairs),
            y_true=(sitk.GetArrayFromImage(sitk.ReadImage(str(t))) > 0 for _, _, t in pairs),
            subject_list=[case for case, _, _ in pairs],
            min_overlap=rules.track(5).params["min_overlap"],
            overlap_func=rules.track(5).params["overlap_func"],
            num_parallel_calls=1,
        )
        return
    from monai.metrics import compute_dice, compute_hausdorff_distance, compute_surface_dice

    from scoring.segmentation import crop_to_union, region_channels

    params = rules.track(track).params
    regions = params["regions"]
    for _, predicted_path, truth_path in pairs:
        predicted = sitk.GetArrayFromImage(sitk.ReadImage(str(predicted_path)))
        truth_image = sitk.ReadImage(str(truth_path))
        truth = sitk.GetArrayFromImage(truth_image)
        spacing = list(reversed(truth_image.GetSpacing()))
        p, t = crop_to_union(predicted, truth)
        p, t = region_channels(p, regions), region_channels(t, regions)
        compute_dice(p, t, include_background=True, ignore_empty=False)
        if track == 2:
            compute_surface_dice(
                p,
                t,
                class_thresholds=list(params["surface_dice_tolerance_mm"]),
                include_background=True,
                spacing=spacing,
                use_subvoxels=True,
            )
        else:
            compute_hausdorff_distance(
                p, t, include_background=True, percentile=95, spacing=spacing
            )


def _measure_volumes(track: int, predictions: str, truth: str, how: str, queue) -> None:
    import warnings

    import torch

    from scoring.breakdown import score_track
    from scoring.rules import load_rules
    from scoring.tracks import track_module

    try:
        warnings.simplefilter("ignore")
        if how != "huiyan-all-cores":
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
            torch.set_num_threads(1)
        rules = load_rules()
        track_module(track)  # import MONAI / picai before the clock starts
        pairs = _file_pairs(track, Path(predictions), Path(truth))
        start = time.perf_counter()
        if how == "floor":
            floor(track, pairs, rules)
        else:
            workers = 1 if how == "huiyan-one-core" else None
            score_track(track, Path(predictions), Path(truth), rules, workers=workers)
        queue.put(time.perf_counter() - start)
    except BaseException:
        queue.put(traceback.format_exc())
        raise


def measure_volumes(track: int, predictions: Path, truth: Path, how: str) -> float:
    return in_fresh_process(_measure_volumes, track, str(predictions), str(truth), how)


def volumes_table(tracks: list[int], volumes: int, distinct: int, repeat: int) -> None:
    print(
        f"\n{volumes} volumes of 256x256x128 ({len(os.sched_getaffinity(0))} cores);"
        " seconds, best of",
        repeat,
    )
    print(
        f"{'track':>5} {'cases':>6} {'floor 1c':>9} {'huiyan 1c':>10} {'ratio':>6}"
        f" {'huiyan all':>11} {'ratio':>6}"
    )
    for track in tracks:
        folder = Path(tempfile.mkdtemp(prefix="bench-volumes-"))
        try:
            predictions, truth, cases = tile_dataset(track, folder, volumes, distinct)
            best = {}
            for _ in range(repeat):
                for how in ("floor", "huiyan-one-core", "huiyan-all-cores"):
                    seconds = measure_volumes(track, predictions, truth, how)
                    best[how] = min(best.get(how, seconds), seconds)
            base = best["floor"]
            print(
                f"{track:>5} {cases:>6} {base:>9.2f} {best['huiyan-one-core']:>10.2f}"
                f" {best['huiyan-one-core'] / base:>6.2f} {best['huiyan-all-cores']:>11.2f}"
                f" {best['huiyan-all-cores'] / base:>6.2f}"
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--cases-2d", default="100,1000", help="case counts for tracks 6-8")
    parser.add_argument("--cases-3d", default="100", help="case counts for tracks 1-5")
    parser.add_argument(
        "--volumes", type=int, default=100, help="256x256x128 cases, tracks 2, 4, 5 (0: none)"
    )
    parser.add_argument("--distinct", type=int, default=12, help="volumes drawn for --volumes")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many, --volumes")
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
        chosen = [t for t in VOLUME_TRACKS if str(t) in args.tracks.split(",")]
        volumes_table(chosen, args.volumes, args.distinct, args.repeat)


if __name__ == "__main__":
    main()
