"""Track 1 phantom: a chest CT in three phases with lung nodules, some malignant."""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import centre_of, ellipsoid, finish, inside, texture, tube

ROLES = ("ct_plain", "ct_arterial", "ct_venous")
#: contrast added to the aorta and to a malignant nodule in each phase (HU)
AORTA = {"ct_plain": 0.0, "ct_arterial": 260.0, "ct_venous": 120.0}
MALIGNANT_ENHANCEMENT = {"ct_plain": 0.0, "ct_arterial": 90.0, "ct_venous": 50.0}


def render(rng: np.random.Generator, grid: Grid) -> Case:
    fov = grid.fov
    body_centre = centre_of(
        grid, 0.5 + rng.uniform(-0.04, 0.04), 0.5 + rng.uniform(-0.04, 0.04), 0.5
    )
    body_radii = (fov[0] * rng.uniform(0.40, 0.47), fov[1] * rng.uniform(0.30, 0.38), fov[2])
    tissue = 40.0 + rng.uniform(-25, 25)
    anatomy = np.full(grid.shape, -1000.0)
    anatomy[ellipsoid(grid, body_centre, body_radii)] = tissue
    lungs = []
    for side in (-1, 1):
        centre = (
            body_centre[0] + side * grid.voxels(fov[0] * 0.2)[0],
            body_centre[1],
            body_centre[2],
        )
        radii = (fov[0] * 0.16, body_radii[1] * 0.75, fov[2] * 0.45)
        anatomy[ellipsoid(grid, centre, radii)] = -850.0 + rng.uniform(-30, 30)
        lungs.append((centre, radii))
    anatomy += 8.0 * texture(rng, grid, fov[0] * 0.03)
    vessels = np.zeros(grid.shape, bool)  # pulmonary vessels: bright tubes that mimic nodules
    for centre, radii in lungs:
        for _ in range(3):
            ends = [inside(rng, grid, centre, radii) for _ in range(2)]
            vessels |= tube(grid, ends[0], ends[1], fov[0] * 0.02)
    anatomy[vessels] = 20.0
    top = (body_centre[0], body_centre[1] + grid.voxels(fov[1] * 0.08)[1], 0.0)
    aorta = tube(grid, top, (top[0], top[1], grid.size[2] - 1.0), fov[0] * 0.035)
    labels = np.zeros(grid.shape, np.uint8)
    findings, lesion_masks = [], []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        lung_centre, lung_radii = lungs[rng.integers(2)]
        radius = round(fov[0] * rng.uniform(0.04, 0.075), 3)
        malignant = bool(rng.random() < 0.45)
        taken = [(f.centre, f.radius_mm) for f in findings]
        centre = inside(rng, grid, lung_centre, lung_radii, taken, radius)
        findings.append(Finding("nodule", centre, radius, {"malignant": malignant}))
        lesion_masks.append(ellipsoid(grid, centre, radius))
        labels[lesion_masks[-1]] = 2 if malignant else 1
    if rng.random() < 0.3:  # a finding the reference standard excludes (too small)
        lung_centre, lung_radii = lungs[rng.integers(2)]
        taken = [(f.centre, f.radius_mm) for f in findings]
        centre = inside(rng, grid, lung_centre, lung_radii, taken, fov[0] * 0.02)
        findings.append(Finding("excluded", centre, fov[0] * 0.02))
        anatomy[ellipsoid(grid, centre, fov[0] * 0.02)] = 30.0
    images = {}
    for role in ROLES:
        image = anatomy.copy()
        image[aorta] = tissue + AORTA[role]
        image[vessels] = 20.0 + AORTA[role] * 0.5
        for finding, mask in zip(findings, lesion_masks, strict=False):
            boost = MALIGNANT_ENHANCEMENT[role] if finding.attrs["malignant"] else 0.0
            image[mask] = 30.0 + boost
        images[role] = finish(image, rng, 15.0)
    return Case(images, labels, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    def point(finding: Finding) -> dict[str, Any]:
        x, y, z = grid.world(finding.centre)
        return {"x": x, "y": y, "z": z, "diameter_mm": round(2 * finding.radius_mm, 3)}

    nodules = [f for f in case.findings if f.kind == "nodule"]
    return {
        "nodules": [{**point(f), "malignant": f.attrs["malignant"]} for f in nodules],
        "excluded": [point(f) for f in case.findings if f.kind == "excluded"],
    }


SPEC = TrackSpec(
    track=1,
    roles=ROLES,
    fov_mm=(320.0, 320.0, 240.0),
    default_size=(32, 32, 16),
    origin=(-161.5, -180.25, -412.0),
    dtype=np.int16,
    render=render,
    truth=truth,
    background=-1000.0,
    tissue=40.0,
    bright=400.0,
    noise=15.0,
)
