"""Track 4 phantom: a brain MRI in four sequences with one glioma.

Mask labels follow BraTS 2023: 1 necrotic core, 2 oedema (SNFH), 3 enhancing tumour. A
high-grade glioma has an enhancing rim around necrosis; a low-grade one has no enhancement.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import centre_of, ellipsoid, finish, inside, texture

ROLES = ("t1", "t1c", "t2", "flair")
NCR, SNFH, ET = 1, 2, 3
#: signal of (brain, ventricle, oedema, necrosis, enhancing tumour) per sequence
SIGNAL = {
    "t1": (600.0, 150.0, 480.0, 300.0, 470.0),
    "t1c": (620.0, 150.0, 500.0, 300.0, 1150.0),
    "t2": (500.0, 1300.0, 950.0, 1150.0, 700.0),
    "flair": (450.0, 100.0, 950.0, 350.0, 720.0),
}


def render(rng: np.random.Generator, grid: Grid) -> Case:
    fov = grid.fov
    centre = centre_of(grid, 0.5 + rng.uniform(-0.04, 0.04), 0.5 + rng.uniform(-0.04, 0.04), 0.5)
    head = (fov[0] * rng.uniform(0.36, 0.42), fov[1] * rng.uniform(0.42, 0.47), fov[2] * 0.45)
    brain = ellipsoid(grid, centre, head)
    ventricles = ellipsoid(grid, centre, (fov[0] * 0.07, fov[1] * 0.12, fov[2] * 0.12))
    hemisphere = (
        centre[0] + rng.choice([-1, 1]) * grid.voxels(head[0] * 0.45)[0],
        centre[1],
        centre[2],
    )
    oedema_radius = round(fov[0] * rng.uniform(0.1, 0.15), 3)
    at = inside(rng, grid, hemisphere, [r * 0.3 for r in head])
    high_grade = bool(rng.random() < 0.55)
    core_radius = oedema_radius * rng.uniform(0.45, 0.65)
    labels = np.zeros(grid.shape, np.uint8)
    labels[ellipsoid(grid, at, oedema_radius) & brain] = SNFH
    core = ellipsoid(grid, at, core_radius)
    if high_grade:
        labels[core] = ET
        labels[ellipsoid(grid, at, core_radius * 0.6)] = NCR
    else:
        labels[core] = NCR
    finding = Finding("glioma", at, oedema_radius, {"grade_high": high_grade})
    anatomy_texture = texture(rng, grid, fov[0] * 0.03)
    gain = rng.uniform(0.85, 1.15)  # MR intensities have no absolute scale
    images = {}
    for role, (tissue, csf, oedema, necrosis, enhancing) in SIGNAL.items():
        image = np.zeros(grid.shape)
        image[brain] = tissue
        image[ventricles] = csf
        image += 0.05 * tissue * anatomy_texture * brain
        for label, value in ((SNFH, oedema), (NCR, necrosis), (ET, enhancing)):
            image[labels == label] = value
        images[role] = finish(gain * image, rng, 20.0).clip(0, None)
    return Case(images, labels, [finding])


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    return {"grade_high": case.findings[0].attrs["grade_high"] if case.findings else False}


SPEC = TrackSpec(
    track=4,
    roles=ROLES,
    fov_mm=(240.0, 240.0, 155.0),
    default_size=(32, 32, 16),
    origin=(119.25, 131.5, -72.0),
    direction=(-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0),
    dtype=np.int16,
    render=render,
    truth=truth,
    background=0.0,
    tissue=600.0,
    bright=1200.0,
    noise=20.0,
    writes_mask=True,
)
