"""Track 5 phantom: a prostate bpMRI (T2W, ADC, high b-value) with 0-2 csPCa lesions."""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import centre_of, ellipsoid, finish, inside, texture

ROLES = ("t2w", "adc", "hbv")
#: signal of (pelvis, gland, lesion) per sequence: lesions are dark on T2W and ADC, bright on HBV
SIGNAL = {"t2w": (380.0, 620.0, 240.0), "adc": (900.0, 1300.0, 620.0), "hbv": (40.0, 70.0, 190.0)}


def render(rng: np.random.Generator, grid: Grid) -> Case:
    fov = grid.fov
    centre = centre_of(grid, 0.5 + rng.uniform(-0.05, 0.05), 0.5 + rng.uniform(-0.05, 0.05), 0.5)
    pelvis = ellipsoid(grid, centre, (fov[0] * rng.uniform(0.42, 0.48), fov[1] * 0.4, fov[2]))
    gland_radii = (fov[0] * rng.uniform(0.16, 0.21), fov[1] * rng.uniform(0.13, 0.17), fov[2] * 0.3)
    gland = ellipsoid(grid, centre, gland_radii)
    labels = np.zeros(grid.shape, np.uint8)
    findings: list[Finding] = []
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        radius = round(fov[0] * rng.uniform(0.045, 0.075), 3)
        taken = [(f.centre, f.radius_mm) for f in findings]
        at = inside(rng, grid, centre, gland_radii, taken, radius)
        labels[ellipsoid(grid, at, radius)] = 1
        findings.append(Finding("lesion", at, radius))
    tissue_texture = texture(rng, grid, fov[0] * 0.025)
    gain = rng.uniform(0.85, 1.15)
    images = {}
    for role, (body, prostate, lesion) in SIGNAL.items():
        image = np.where(pelvis, body, 0.0) + 0.08 * body * tissue_texture * pelvis
        image[gland] = prostate + 0.06 * prostate * tissue_texture[gland]
        image[labels == 1] = lesion
        images[role] = finish(gain * image, rng, 0.04 * body).clip(0, None)
    return Case(images, labels, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    return {}


SPEC = TrackSpec(
    track=5,
    roles=ROLES,
    fov_mm=(160.0, 160.0, 96.0),
    default_size=(32, 32, 16),
    origin=(-82.5, -61.25, -48.0),
    dtype=np.int16,
    render=render,
    truth=truth,
    background=0.0,
    tissue=500.0,
    bright=1300.0,
    noise=20.0,
    writes_mask=True,
)
