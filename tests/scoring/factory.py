"""Tiny datasets for the scoring tests: a truth file and a perfect prediction for any track.

Each set has one phantom case and one duplicate (both scored by the gates only) and small
16³ masks, so that a whole track scores in well under a second.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from scoring.rules import load_rules

RULES = load_rules()
SIZE = 16
SPACING = (0.8, 0.8, 1.5)


def write_json(path: Path, cases: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cases": cases}, indent=1))
    return path


def write_image(path: Path, array: np.ndarray, spacing=SPACING, origin=(0.0, 0.0, 0.0)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    sitk.WriteImage(image, str(path))


def _ball(centre: tuple[int, int, int], radius: float) -> np.ndarray:
    z, y, x = np.ogrid[:SIZE, :SIZE, :SIZE]
    return (z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2 <= radius**2


def _track_truth(track: int, index: int, case_id: str, rng: random.Random, truth_dir: Path):
    """(truth track object, perfect prediction track object, files to write for the prediction)."""
    if track in (1, 3):
        count = 1 + index % 2
        points = [{axis: rng.uniform(-50, 50) for axis in "xyz"} for _ in range(count)]
        if track == 1:
            truth = {
                "nodules": [
                    {**p, "diameter_mm": rng.uniform(6, 20), "malignant": (index + k) % 2 == 0}
                    for k, p in enumerate(points)
                ],
                "excluded": [],
            }
            predicted = {
                "nodules": [
                    {**p, "probability": 1.0, "malignancy": float(n["malignant"])}
                    for p, n in zip(points, truth["nodules"], strict=True)
                ]
            }
        else:
            if index % 3 == 2:
                points = []
            truth = {"aneurysms": [{**p, "radius_mm": rng.uniform(2, 5)} for p in points]}
            predicted = {
                "aneurysms": [{**p, "probability": 1.0} for p in points],
                "present": float(bool(points)),
            }
        return truth, predicted, {}
    if track in (2, 4):
        mask = np.zeros((SIZE, SIZE, SIZE), dtype=np.uint8)
        mask[_ball((8, 8, 8), 6)] = 1 if track == 2 else 2
        mask[_ball((8, 8 + index % 3, 8), 3)] = 2 if track == 2 else 1
        if index % 2 == 0:
            mask[_ball((8, 6, 9), 1.5)] = 3
        write_image(truth_dir / case_id / "mask.nii.gz", mask)
        flag = "malignant" if track == 2 else "grade_high"
        value = index % 2 == 0
        truth = {"mask": f"{case_id}/mask.nii.gz", flag: value}
        predicted = {
            "mask": f"{case_id}/mask.nii.gz",
            "malignancy" if track == 2 else flag: float(value),
        }
        return truth, predicted, {f"{case_id}/mask.nii.gz": mask}
    if track == 5:
        mask = np.zeros((SIZE, SIZE, SIZE), dtype=np.uint8)
        if index % 2 == 0:
            mask[_ball((8, 8, 8), 3 + index % 3)] = 1
        write_image(truth_dir / case_id / "lesion.nii.gz", mask)
        detection = (mask * (0.9 - 0.1 * (index % 3))).astype(np.float32)
        return (
            {"mask": f"{case_id}/lesion.nii.gz"},
            {"detection_map": f"{case_id}/detection.nii.gz"},
            {f"{case_id}/detection.nii.gz": detection},
        )
    if track == 6:
        sides = {"L": index % 2 == 0, "R": index % 3 == 0}
        return {"breasts": sides}, {"breasts": {k: float(v) for k, v in sides.items()}}, {}
    if track == 7:
        classes = RULES.track(7).params["classes"]
        label = classes[index % len(classes)]
        return (
            {"label": label},
            {"probabilities": {c: float(c == label) for c in classes}},
            {},
        )
    labels = RULES.track(8).params["labels"]
    findings = {label: (index + k) % 2 for k, label in enumerate(labels)}
    return {"findings": findings}, {"findings": {k: float(v) for k, v in findings.items()}}, {}


def make_set(track: int, folder: Path, cases: int = 6, seed: int = 0) -> tuple[Path, Path]:
    """Write truth/truth.json and output/predictions.json (a perfect prediction) under folder."""
    rng = random.Random(seed)
    truth_dir, output_dir = folder / "truth", folder / "output"
    truth_cases, predicted_cases = [], []
    real = [f"c{i:03d}" for i in range(cases)]
    for index, case_id in enumerate(real):
        track_truth, track_prediction, files = _track_truth(track, index, case_id, rng, truth_dir)
        for relative, array in files.items():
            write_image(output_dir / relative, array)
        truth_cases.append(_gate_truth(case_id, "real_human", None, index == 1, track_truth))
        predicted_cases.append(
            _gate_prediction(case_id, "real_human", None, index == 1, track_prediction)
        )
    for case_id, authenticity, duplicate_of in (
        ("p900", "phantom", None),
        ("d901", "real_human", real[0]),
    ):
        truth_cases.append(_gate_truth(case_id, authenticity, duplicate_of, False, None))
        predicted_cases.append(
            _gate_prediction(
                case_id,
                authenticity,
                duplicate_of,
                False,
                copy.deepcopy(predicted_cases[0]["track"]),
            )
        )
    return (
        write_json(output_dir / "predictions.json", predicted_cases),
        write_json(truth_dir / "truth.json", truth_cases),
    )


def _gate_truth(case_id, authenticity, duplicate_of, stitched, track) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "authenticity": authenticity,
        "conformity": {"duplicate_of": duplicate_of, "stitched": stitched},
        "track": track,
    }


def _gate_prediction(case_id, authenticity, duplicate_of, stitched, track) -> dict[str, Any]:
    classes = RULES.authenticity.classes
    return {
        "case_id": case_id,
        "authenticity": {c: float(c == authenticity) for c in classes},
        "conformity": {"duplicate_of": duplicate_of, "stitched": float(stitched)},
        "track": track,
    }


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def save(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document))
