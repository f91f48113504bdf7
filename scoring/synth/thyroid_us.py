"""Track 7 phantom: a thyroid B-mode ultrasound frame: benign, malignant or no nodule.

Benign nodules are wider than tall, iso-echoic with a dark halo; malignant ones are
hypo-echoic, taller than wide, with bright micro-calcifications (TI-RADS features).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import ellipsoid, finish, texture

ROLES = ("us",)
CLASSES = ("benign", "malignant", "no_nodule")


def render(rng: np.random.Generator, grid: Grid) -> Case:
    width, height = grid.size
    ys = np.arange(height)[:, None] / height
    image = np.broadcast_to(90.0 - 40.0 * ys, grid.shape).copy()  # depth attenuation
    lobe_centre = (width * rng.uniform(0.4, 0.6), height * rng.uniform(0.4, 0.55))
    lobe_radii = (width * rng.uniform(0.3, 0.38), height * rng.uniform(0.18, 0.24))
    lobe = ellipsoid(grid, lobe_centre, lobe_radii)
    image[lobe] = 120.0
    label = str(rng.choice(CLASSES, p=[0.4, 0.3, 0.3]))
    findings = []
    if label != "no_nodule":
        at = (
            round(lobe_centre[0] + rng.uniform(-0.4, 0.4) * lobe_radii[0], 2),
            round(lobe_centre[1] + rng.uniform(-0.2, 0.2) * lobe_radii[1], 2),
        )
        size = rng.uniform(0.09, 0.14) * width
        if label == "benign":
            radii = (size * 1.3, size * 0.8)
            image[ellipsoid(grid, at, (radii[0] + 1.5, radii[1] + 1.5))] = 45.0
            image[ellipsoid(grid, at, radii)] = 125.0
        else:
            radii = (size * 0.8, size * 1.25)
            nodule = ellipsoid(grid, at, (radii[0] * 1.2, radii[1] * 1.2)) & (
                texture(rng, grid, 1.5) > -0.4
            )
            image[nodule] = 55.0
            for _ in range(3):
                spot = (
                    at[0] + rng.uniform(-0.5, 0.5) * radii[0],
                    at[1] + rng.uniform(-0.5, 0.5) * radii[1],
                )
                image[ellipsoid(grid, spot, 0.6)] = 230.0
        findings.append(Finding("nodule", at, float(max(radii)), {"label": label}))
    speckle = rng.rayleigh(1.0, grid.shape) / np.sqrt(np.pi / 2)  # unit-mean multiplicative speckle
    image = image * (1.0 + 0.25 * texture(rng, grid, 2.0)) * speckle
    return Case({"us": finish(image, rng, 3.0)}, None, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    return {"label": case.findings[0].attrs["label"] if case.findings else "no_nodule"}


SPEC = TrackSpec(
    track=7,
    roles=ROLES,
    fov_mm=(64.0, 64.0),
    default_size=(64, 64),
    origin=(0.0, 0.0),
    dtype=np.uint8,
    render=render,
    truth=truth,
    background=20.0,
    tissue=110.0,
    bright=230.0,
    noise=3.0,
)
