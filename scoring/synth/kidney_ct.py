"""Track 2 phantom: an abdominal CT in four phases; kidneys, sometimes a tumour or a cyst.

Mask labels follow KiTS: 1 kidney, 2 tumour, 3 cyst. A case is malignant when it has a tumour.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import centre_of, ellipsoid, finish, texture

ROLES = ("ct_plain", "ct_cortical", "ct_medullary", "ct_excretory")
#: (cortex, medulla, collecting system, tumour) in HU per phase; cysts stay near water
PHASES = {
    "ct_plain": (35.0, 30.0, 25.0, 38.0),
    "ct_cortical": (190.0, 80.0, 60.0, 130.0),
    "ct_medullary": (170.0, 160.0, 90.0, 95.0),
    "ct_excretory": (130.0, 130.0, 520.0, 75.0),
}
KIDNEY, TUMOUR, CYST = 1, 2, 3


def render(rng: np.random.Generator, grid: Grid) -> Case:
    fov = grid.fov
    body_centre = centre_of(
        grid, 0.5 + rng.uniform(-0.04, 0.04), 0.5 + rng.uniform(-0.03, 0.03), 0.5
    )
    tissue = 45.0 + rng.uniform(-25, 25)
    base = np.full(grid.shape, -1000.0)
    base[
        ellipsoid(
            grid,
            body_centre,
            (fov[0] * rng.uniform(0.38, 0.47), fov[1] * rng.uniform(0.3, 0.4), fov[2]),
        )
    ] = tissue
    base += 10.0 * texture(rng, grid, fov[0] * 0.03)
    labels = np.zeros(grid.shape, np.uint8)
    medulla = np.zeros(grid.shape, bool)
    pelvis = np.zeros(grid.shape, bool)
    kidneys = []
    for side in (-1, 1):
        centre = (
            body_centre[0] + side * grid.voxels(fov[0] * rng.uniform(0.17, 0.21))[0],
            body_centre[1] + grid.voxels(fov[1] * rng.uniform(0.05, 0.14))[1],
            body_centre[2] + rng.uniform(-1, 1),
        )
        radii = (
            fov[0] * rng.uniform(0.07, 0.09),
            fov[1] * rng.uniform(0.09, 0.11),
            fov[2] * rng.uniform(0.2, 0.26),
        )
        labels[ellipsoid(grid, centre, radii)] = KIDNEY
        medulla |= ellipsoid(grid, centre, [r * 0.65 for r in radii])
        pelvis |= ellipsoid(grid, centre, [r * 0.3 for r in radii])
        kidneys.append((centre, radii))
    findings = []
    masses = [(CYST, "cyst", 0.4, (0.035, 0.055)), (TUMOUR, "tumour", 0.6, (0.045, 0.075))]
    for label, kind, chance, (low, high) in masses:
        if rng.random() < chance:
            centre, radii = kidneys[rng.integers(2)]
            # on the kidney's lateral or polar rim, as renal masses usually are
            direction = rng.standard_normal(3)
            direction /= np.linalg.norm(direction)
            at = tuple(
                round(float(c + d * r * 0.8), 2)
                for c, d, r in zip(centre, direction, grid.voxels(radii), strict=True)
            )
            radius = round(fov[0] * rng.uniform(low, high), 3)
            labels[ellipsoid(grid, at, radius)] = label
            findings.append(Finding(kind, at, radius))
    lesion_texture = 12.0 * texture(rng, grid, fov[0] * 0.015)
    images = {}
    for role, (cortex, inner, collecting, tumour) in PHASES.items():
        image = base.copy()
        kidney = labels == KIDNEY
        image[kidney] = cortex
        image[kidney & medulla] = inner
        image[kidney & pelvis] = collecting
        image[labels == TUMOUR] = tumour + lesion_texture[labels == TUMOUR]
        image[labels == CYST] = 8.0
        images[role] = finish(image, rng, 14.0)
    return Case(images, labels, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    return {"malignant": any(f.kind == "tumour" for f in case.findings)}


SPEC = TrackSpec(
    track=2,
    roles=ROLES,
    fov_mm=(360.0, 360.0, 256.0),
    default_size=(32, 32, 16),
    origin=(-178.75, -201.5, -655.0),
    dtype=np.int16,
    render=render,
    truth=truth,
    background=-1000.0,
    tissue=45.0,
    bright=500.0,
    noise=14.0,
    writes_mask=True,
)
