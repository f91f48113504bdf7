"""huiyan baseline model: the reference submission of every track, run as ``python predict.py``.

It follows the model I/O contract of SCORING.md section 1: it reads ``$HUIYAN_INPUT/cases.json``
(default ``/input``) and writes ``$HUIYAN_OUTPUT/predictions.json`` (default ``/output``),
per-case files under ``$HUIYAN_OUTPUT/<case_id>/`` and ``timings.json`` (model loading apart
from each case's inference). The track comes from the weights in the bundle folder.

Two small networks trained on the synthetic phantoms (``scoring/baselines/train.py``): a gate
network (the authenticity classes) and a track network (a MONAI UNet for the 3-D tracks, a
MONAI Classifier for the 2-D tracks). Duplicates are found by correlating the resampled
images; a stitched image by the seam it leaves, a score turned into a probability by a
logistic fit stored with the weights. Only the standard library, numpy, torch, MONAI and
SimpleITK are imported, so the same file runs in the sandbox; each bundle folder holds an
identical copy of this file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
import torch
import torch.nn.functional as F
from monai.networks.nets import UNet
from monai.networks.nets.classifier import Classifier

ROLES = {
    1: ("ct_plain", "ct_arterial", "ct_venous"),
    2: ("ct_plain", "ct_cortical", "ct_medullary", "ct_excretory"),
    3: ("cta",),
    4: ("t1", "t1c", "t2", "flair"),
    5: ("t2w", "adc", "hbv"),
    6: ("l_cc", "l_mlo", "r_cc", "r_mlo"),
    7: ("us",),
    8: ("cxr",),
}
CXR_LABELS = (
    "Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
    "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening",
    "Hernia",
)  # fmt: skip
US_CLASSES = ("benign", "malignant", "no_nodule")
AUTHENTICITY = ("real_human", "phantom", "non_human")
#: the grid every image is resampled to before the networks see it (numpy order)
WORK_3D, WORK_2D = (16, 32, 32), (64, 64)
#: network outputs per track: voxel classes (tracks 1-5) or image scores (tracks 6-8)
OUTPUTS = {1: 3, 2: 4, 3: 2, 4: 4, 5: 2, 6: 1, 7: 3, 8: 14}
#: thumbnails whose correlation is above this are taken as the same acquisition
DUPLICATE_CORRELATION = 0.995


def planar(track: int) -> bool:
    return track >= 6


def work_shape(track: int) -> tuple[int, ...]:
    return WORK_2D if planar(track) else WORK_3D


def channels(track: int) -> int:
    """Images per network input: the two views of one breast for track 6, else every role."""
    return 2 if track == 6 else len(ROLES[track])


def build(track: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The gate network and the track network of a track, untrained."""
    shape = work_shape(track)
    gates = Classifier(
        in_shape=(len(ROLES[track]), *shape),
        classes=len(AUTHENTICITY),
        channels=(8, 16, 32),
        strides=(2, 2, 2),
        num_res_units=1,
    )
    if planar(track):
        model = Classifier(
            in_shape=(channels(track), *shape),
            classes=OUTPUTS[track],
            channels=(8, 16, 32, 32),
            strides=(2, 2, 2, 2),
            num_res_units=1,
        )
    else:
        model = UNet(
            spatial_dims=3,
            in_channels=channels(track),
            out_channels=OUTPUTS[track],
            channels=(8, 16, 32),
            strides=(2, 2),
            num_res_units=1,
        )
    return gates, model


def normalise(array: np.ndarray) -> np.ndarray:
    """Scale an image to [0, 1] between its 1st and 99th percentiles (scanners differ)."""
    low, high = np.percentile(array, [1.0, 99.0])
    scaled = (array.astype(np.float32) - np.float32(low)) / np.float32(max(high - low, 1e-6))
    return np.clip(scaled, 0.0, 1.0)


def to_work(arrays: list[np.ndarray], track: int) -> torch.Tensor:
    """Stack normalised images as channels, resampled to the work grid: (1, C, *work)."""
    stacked = torch.from_numpy(np.stack([normalise(a) for a in arrays]))[None]
    mode = "bilinear" if planar(track) else "trilinear"
    return F.interpolate(stacked, size=work_shape(track), mode=mode, align_corners=False)


def breast_inputs(arrays: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Both views of each breast, mirrored so that the chest wall is always on the left."""
    return {
        side: [
            arrays[f"{side.lower()}_{view}"][..., :: (-1 if side == "L" else 1)]
            for view in ("cc", "mlo")
        ]
        for side in ("L", "R")
    }


# ----------------------------------------------------------------------------- gates


def thumbnail(work: torch.Tensor) -> np.ndarray:
    """A case's work-grid images, standardised, for duplicate search by correlation."""
    flat = work.flatten().double().numpy()
    return (flat - flat.mean()) / (flat.std() + 1e-9)


def find_duplicates(thumbs: dict[str, np.ndarray], human: set[str]) -> dict[str, str | None]:
    """For each case, the earliest earlier real-human case it matches, or None."""
    found: dict[str, str | None] = {}
    seen: list[str] = []
    for case_id, thumb in thumbs.items():
        found[case_id] = None
        if case_id in human:
            for earlier in seen:
                if (
                    thumbs[earlier].shape == thumb.shape
                    and float(thumb @ thumbs[earlier]) / thumb.size > DUPLICATE_CORRELATION
                ):
                    found[case_id] = earlier
                    break
            if found[case_id] is None:
                seen.append(case_id)
    return found


def seam_score(work: torch.Tensor) -> float:
    """How much one column boundary near the middle jumps beyond its neighbours.

    A stitched image jumps at its seam on every row (outline, intensity level, texture), a
    natural edge only on the rows it crosses; averaging over rows separates the two.
    """
    jumps = torch.diff(work[0], dim=-1).abs().flatten(0, -2)  # (rows of every channel, W - 1)
    width = work.shape[-1]
    low, high = width // 2 - width // 8, width // 2 + width // 8
    neighbours = 0.5 * (jumps[:, low - 2 : high - 1] + jumps[:, low : high + 1])
    return float((jumps[:, low - 1 : high] - neighbours).mean(0).max())


# ----------------------------------------------------------------------------- decoding


def upsample(probabilities: torch.Tensor, image: sitk.Image) -> np.ndarray:
    """Class probabilities from the work grid back onto the image's own grid: (C, *shape)."""
    shape = image.GetSize()[::-1]
    return F.interpolate(probabilities[None], size=shape, mode="trilinear", align_corners=False)[
        0
    ].numpy()


def peaks(
    lesion: torch.Tensor, limit: int = 8, floor: float = 0.05
) -> list[tuple[float, tuple[int, ...]]]:
    """Local maxima of a lesion probability map, strongest first: (probability, index zyx)."""
    pooled = F.max_pool3d(lesion[None, None], kernel_size=3, stride=1, padding=1)[0, 0]
    candidates = torch.nonzero((lesion == pooled) & (lesion > floor))
    found = sorted(
        ((float(lesion[tuple(i)]), tuple(int(v) for v in i)) for i in candidates), reverse=True
    )
    return found[:limit]


def world(image: sitk.Image, work_index: tuple[int, ...]) -> dict[str, float]:
    """World millimetres of the centre of a work-grid voxel (index in numpy order)."""
    size, work = image.GetSize(), work_index[::-1]
    scale = [n / w for n, w in zip(size, WORK_3D[::-1], strict=True)]
    index = [(i + 0.5) * s - 0.5 for i, s in zip(work, scale, strict=True)]
    x, y, z = image.TransformContinuousIndexToPhysicalPoint(index)
    return {"x": round(x, 2), "y": round(y, 2), "z": round(z, 2)}


def write_labels(labels: np.ndarray, like: sitk.Image, path: Path) -> None:
    image = sitk.GetImageFromArray(labels)
    image.CopyInformation(like)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)


def decode_points(
    track: int, probs: torch.Tensor, image: sitk.Image
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Tracks 1 and 3: candidate centres at the peaks of the lesion probability."""
    lesion = 1.0 - probs[0]
    points = []
    for p, index in peaks(lesion):
        point = {**world(image, index), "probability": round(p, 4)}
        if track == 1:  # malignant share of the lesion probability at the peak
            point["malignancy"] = round(float(probs[2][index] / max(float(lesion[index]), 1e-6)), 4)
        points.append(point)
    keypoints = [{"x": q["x"], "y": q["y"], "z": q["z"], "label": "candidate"} for q in points[:3]]
    if track == 1:
        return {"nodules": points}, keypoints
    return {
        "aneurysms": points,
        "present": round(max([q["probability"] for q in points], default=0.0), 4),
    }, keypoints


def decode_mask(
    track: int, case_id: str, probs: torch.Tensor, image: sitk.Image, output: Path
) -> dict[str, Any]:
    """Tracks 2, 4, 5: a label mask or a detection map on the image's grid."""
    full = upsample(probs, image)
    if track == 5:
        lesion = full[1]
        components = sitk.GetArrayFromImage(
            sitk.ConnectedComponent(sitk.GetImageFromArray((lesion > 0.5).astype(np.uint8)), True)
        )
        detection = np.zeros(lesion.shape, np.float32)
        for label in range(1, int(components.max()) + 1):
            blob = components == label
            detection[blob] = float(lesion[blob].max())
        write_labels(detection, image, output / case_id / "detection_map.nii.gz")
        return {"detection_map": f"{case_id}/detection_map.nii.gz"}
    write_labels(full.argmax(0).astype(np.uint8), image, output / case_id / "mask.nii.gz")
    score = round(float(probs[2 if track == 2 else 3].max()), 4)
    return {"mask": f"{case_id}/mask.nii.gz", ("malignancy" if track == 2 else "grade_high"): score}


def decode_image(
    track: int, model: torch.nn.Module, arrays: dict[str, np.ndarray], device: torch.device
) -> dict[str, Any]:
    """Tracks 6-8: scores for the whole image (each breast for track 6)."""
    if track == 6:
        scores = {
            side: round(float(torch.sigmoid(model(to_work(views, track).to(device)))[0, 0]), 4)
            for side, views in breast_inputs(arrays).items()
        }
        return {"breasts": scores}
    logits = model(to_work(list(arrays.values()), track).to(device))[0]
    if track == 7:
        return {
            "probabilities": {  # unrounded: the three must add up to 1
                c: float(p) for c, p in zip(US_CLASSES, torch.softmax(logits, 0), strict=True)
            }
        }
    return {
        "findings": {
            c: round(float(p), 4) for c, p in zip(CXR_LABELS, torch.sigmoid(logits), strict=True)
        }
    }


# ----------------------------------------------------------------------------- main


class Bundle:
    """The trained parts of a bundle: track, gate network, track network, seam calibration."""

    def __init__(self, folder: Path, device: torch.device) -> None:
        weights = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
        self.track = int(weights["track"])
        self.gates, self.model = build(self.track)
        self.gates.load_state_dict(weights["gates"])
        self.model.load_state_dict(weights["model"])
        self.gates, self.model = self.gates.to(device).eval(), self.model.to(device).eval()
        self.seam_slope, self.seam_offset = (float(v) for v in weights["seam"])
        self.device = device

    def stitched(self, work: torch.Tensor) -> float:
        logit = self.seam_slope * seam_score(work) + self.seam_offset
        return float(torch.sigmoid(torch.tensor(logit)))


def predict_case(
    bundle: Bundle, case: dict[str, Any], input_dir: Path, output: Path
) -> tuple[dict[str, Any], torch.Tensor]:
    """One case's prediction (duplicate_of still unset) and its work-grid images."""
    track, model, device = bundle.track, bundle.model, bundle.device
    case_id = case["case_id"]
    images = {role: sitk.ReadImage(str(input_dir / case["files"][role])) for role in ROLES[track]}
    arrays = {role: sitk.GetArrayFromImage(image) for role, image in images.items()}
    work = to_work(list(arrays.values()), track)
    gate = torch.softmax(bundle.gates(work.to(device))[0], 0).cpu()
    authenticity = dict(zip(AUTHENTICITY, gate.tolist(), strict=True))
    keypoints: list[dict[str, Any]] = []
    if planar(track):
        prediction = decode_image(track, model, arrays, device)
    else:
        probs = torch.softmax(model(work.to(device))[0], 0).cpu()
        first = images[ROLES[track][0]]
        if track in (1, 3):
            prediction, keypoints = decode_points(track, probs, first)
        else:
            prediction = decode_mask(track, case_id, probs, first, output)
    verdict = max(authenticity, key=authenticity.get)
    result = {
        "case_id": case_id,
        "authenticity": {k: round(v, 4) for k, v in authenticity.items()},
        "conformity": {"duplicate_of": None, "stitched": round(bundle.stitched(work), 4)},
        "track": prediction,
        "keypoints": keypoints,
        "explanation": f"baseline: {verdict} ({authenticity[verdict]:.2f}); "
        f"{len(keypoints)} key points marked",
    }
    return result, work


def main() -> None:
    input_dir = Path(os.environ.get("HUIYAN_INPUT", "/input"))
    output = Path(os.environ.get("HUIYAN_OUTPUT", "/output"))
    started = time.perf_counter()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bundle = Bundle(Path(__file__).resolve().parent, device)
    model_load_s = time.perf_counter() - started

    cases = json.loads((input_dir / "cases.json").read_text(encoding="utf-8"))
    results, thumbs, seconds = [], {}, {}
    with torch.inference_mode():
        for case in cases:
            begun = time.perf_counter()
            result, work = predict_case(bundle, case, input_dir, output)
            results.append(result)
            thumbs[result["case_id"]] = thumbnail(work)
            seconds[result["case_id"]] = round(time.perf_counter() - begun, 4)
    human = {r["case_id"] for r in results if r["authenticity"]["real_human"] >= 0.5}
    for result, duplicate_of in zip(results, find_duplicates(thumbs, human).values(), strict=True):
        result["conformity"]["duplicate_of"] = duplicate_of
    output.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"cases": results}, indent=1) + "\n"
    (output / "predictions.json").write_text(text, encoding="utf-8")
    timings = {"model_load_s": round(model_load_s, 4), "cases": seconds}
    (output / "timings.json").write_text(json.dumps(timings, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
