"""Track 3 phantom: a head CTA with bright vessels and saccular aneurysms on some of them."""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import centre_of, ellipsoid, finish, texture, tube

ROLES = ("cta",)
VESSEL_HU = 320.0


def render(rng: np.random.Generator, grid: Grid) -> Case:
    fov = grid.fov
    centre = centre_of(grid, 0.5 + rng.uniform(-0.04, 0.04), 0.5 + rng.uniform(-0.04, 0.04), 0.5)
    head = np.array(
        [fov[0] * rng.uniform(0.36, 0.44), fov[1] * rng.uniform(0.42, 0.47), fov[2] * 0.6]
    )
    brain = 35.0 + rng.uniform(-10, 10)
    image = np.full(grid.shape, -1000.0)
    image[ellipsoid(grid, centre, head)] = 900.0  # skull
    image[ellipsoid(grid, centre, head - 0.06 * fov[0])] = brain
    image += 6.0 * texture(rng, grid, fov[0] * 0.04)
    vessels = []
    for _ in range(4):  # segments from the circle of Willis towards the cortex
        start = np.asarray(centre) + rng.uniform(-0.15, 0.15, 3) * np.asarray(grid.size)
        end = np.asarray(centre) + rng.uniform(-0.38, 0.38, 3) * np.asarray(grid.size)
        image[tube(grid, start, end, fov[0] * 0.012)] = VESSEL_HU
        vessels.append((start, end))
    labels = np.zeros(grid.shape, np.uint8)
    findings: list[Finding] = []
    for _ in range(rng.choice([0, 1, 1, 2])):
        start, end = vessels[rng.integers(len(vessels))]
        for _ in range(20):
            at = tuple(round(float(v), 2) for v in start + rng.uniform(0.2, 0.8) * (end - start))
            radius = round(fov[0] * rng.uniform(0.045, 0.075), 3)
            spacing = np.asarray(grid.spacing)
            if all(
                np.linalg.norm((np.subtract(at, f.centre)) * spacing) > radius + f.radius_mm
                for f in findings
            ):
                break
        sac = ellipsoid(grid, at, radius)
        image[sac] = VESSEL_HU + 20.0
        labels[sac] = 1
        findings.append(Finding("aneurysm", at, radius))
    return Case({"cta": finish(image, rng, 12.0)}, labels, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    aneurysms = []
    for finding in case.findings:
        x, y, z = grid.world(finding.centre)
        aneurysms.append({"x": x, "y": y, "z": z, "radius_mm": finding.radius_mm})
    return {"aneurysms": aneurysms}


SPEC = TrackSpec(
    track=3,
    roles=ROLES,
    fov_mm=(200.0, 200.0, 160.0),
    default_size=(32, 32, 16),
    origin=(-97.5, -120.25, -40.0),
    dtype=np.int16,
    render=render,
    truth=truth,
    background=-1000.0,
    tissue=35.0,
    bright=900.0,
    noise=12.0,
)
