"""Track 8 phantom: a frontal chest radiograph with any of the 14 ChestX-ray14 findings.

Each finding is drawn where it usually shows (effusion at a costophrenic angle, pneumothorax
at an apex, cardiomegaly as a wide heart ...), so a finding has a place as well as a label.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import ellipsoid, finish, texture

ROLES = ("cxr",)
LABELS = (
    "Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
    "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening",
    "Hernia",
)  # fmt: skip
PREVALENCE = 0.18

Drawer = Callable[
    [np.ndarray, np.random.Generator, Grid, tuple[float, float], dict[str, Any]], None
]


def _blob(value: float, scale: float) -> Drawer:
    """A round opacity of the given brightness whose radius is ``scale`` of the image."""

    def draw(image, rng, grid, at, lung) -> None:
        image[ellipsoid(grid, at, grid.size[0] * scale) & lung["mask"]] += value

    return draw


def _patch(value: float, scale: float, grain: float) -> Drawer:
    """A patchy airspace opacity: a blob broken up by a texture of the given grain."""

    def draw(image, rng, grid, at, lung) -> None:
        patch = ellipsoid(grid, at, grid.size[0] * scale) & (texture(rng, grid, grain) > -0.2)
        image[patch & lung["mask"]] += value

    return draw


def _effusion(image, rng, grid, at, lung) -> None:
    ys = np.arange(grid.size[1])[:, None]
    image[lung["mask"] & (ys > lung["base"] - 0.12 * grid.size[1])] = 170.0


def _pneumothorax(image, rng, grid, at, lung) -> None:
    ys = np.arange(grid.size[1])[:, None]
    image[lung["mask"] & (ys < lung["apex"] + 0.15 * grid.size[1])] = 12.0


def _atelectasis(image, rng, grid, at, lung) -> None:
    ys = np.arange(grid.size[1])[:, None]
    image[lung["mask"] & (np.abs(ys - at[1]) < 1.5)] += 70.0


def _pleural_thickening(image, rng, grid, at, lung) -> None:
    rim = lung["mask"] & ~ellipsoid(grid, lung["centre"], np.subtract(lung["radii"], 2.0))
    image[rim] += 80.0


def _fibrosis(image, rng, grid, at, lung) -> None:
    reticular = np.abs(texture(rng, grid, 0.8)) < 0.35
    image[reticular & lung["mask"] & (np.arange(grid.size[1])[:, None] < lung["centre"][1])] += 55.0


DRAW: dict[str, Drawer] = {
    "Atelectasis": _atelectasis,
    "Effusion": _effusion,
    "Infiltration": _patch(35.0, 0.12, 1.0),
    "Mass": _blob(95.0, 0.08),
    "Nodule": _blob(80.0, 0.03),
    "Pneumonia": _patch(60.0, 0.1, 1.8),
    "Pneumothorax": _pneumothorax,
    "Consolidation": _blob(75.0, 0.09),
    "Edema": _patch(30.0, 0.16, 2.5),
    "Fibrosis": _fibrosis,
    "Pleural_Thickening": _pleural_thickening,
}


def render(rng: np.random.Generator, grid: Grid) -> Case:
    width, height = grid.size
    present = {label for label in LABELS if rng.random() < PREVALENCE}
    image = np.full(grid.shape, 15.0)
    image[
        ellipsoid(
            grid, (width * 0.5 + rng.uniform(-2, 2), height * 0.55), (width * 0.47, height * 0.5)
        )
    ] = 150.0
    lungs = []
    for side in (-1, 1):
        centre = (width * (0.5 + side * rng.uniform(0.18, 0.22)), height * rng.uniform(0.45, 0.5))
        radii = (width * 0.15, height * rng.uniform(0.3, 0.34))
        if "Emphysema" in present:
            radii = (radii[0] * 1.12, radii[1] * 1.08)
        mask = ellipsoid(grid, centre, radii)
        image[mask] = 30.0 if "Emphysema" in present else 55.0
        image += 10.0 * texture(rng, grid, 1.0) * mask
        lungs.append({"mask": mask, "centre": centre, "radii": radii,
                      "apex": centre[1] - radii[1], "base": centre[1] + radii[1]})  # fmt: skip
    heart_scale = 1.4 if "Cardiomegaly" in present else 1.0
    heart_at = (width * 0.56, height * 0.66)
    image[ellipsoid(grid, heart_at, (width * 0.13 * heart_scale, height * 0.12))] = 190.0
    findings = [
        Finding(label, heart_at) for label in ("Cardiomegaly", "Emphysema") if label in present
    ]
    if "Hernia" in present:
        at = (width * 0.5, height * 0.8)
        image[ellipsoid(grid, at, width * 0.06)] = 200.0
        image[ellipsoid(grid, (at[0], at[1] - 1), width * 0.025)] = 20.0
        findings.append(Finding("Hernia", at))
    for label in sorted(present & DRAW.keys()):
        lung = lungs[rng.integers(2)]
        at = tuple(
            round(float(c + rng.uniform(-0.4, 0.4) * r), 2)
            for c, r in zip(lung["centre"], lung["radii"], strict=True)
        )
        DRAW[label](image, rng, grid, at, lung)
        findings.append(Finding(label, at))
    return Case({"cxr": finish(image, rng, 4.0)}, None, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    present = {f.kind for f in case.findings}
    return {"findings": {label: int(label in present) for label in LABELS}}


SPEC = TrackSpec(
    track=8,
    roles=ROLES,
    fov_mm=(64.0, 64.0),
    default_size=(64, 64),
    origin=(0.0, 0.0),
    dtype=np.uint8,
    render=render,
    truth=truth,
    background=15.0,
    tissue=150.0,
    bright=220.0,
    noise=4.0,
)
