"""Track 6 phantom: screening mammograms, CC and MLO views of each breast.

Roles are ``l_cc``, ``l_mlo``, ``r_cc``, ``r_mlo`` (as in the rules document). A malignant
mass is bright with an irregular margin; a benign one is rounder and fainter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scoring.synth.base import Case, Finding, Grid, TrackSpec
from scoring.synth.shapes import ellipsoid, finish, texture

ROLES = ("l_cc", "l_mlo", "r_cc", "r_mlo")
SIDES = ("L", "R")


def _breast(
    rng: np.random.Generator, grid: Grid, side: str, view: str
) -> tuple[np.ndarray, np.ndarray]:
    """One view: the chest wall on the left edge for R, on the right edge for L."""
    width, height = grid.size
    wall = 0.0 if side == "R" else width - 1.0
    breast = ellipsoid(grid, (wall, height * 0.5), (width * rng.uniform(0.6, 0.75), height * 0.45))
    image = np.where(breast, 70.0 + 25.0 * texture(rng, grid, 3.0), 5.0)
    if view == "mlo":  # the pectoral muscle is a bright triangle in the upper chest-wall corner
        ys, xs = np.mgrid[0:height, 0:width]
        from_wall = xs if side == "R" else width - 1 - xs
        image[(from_wall + ys * 0.8 < width * 0.35) & breast] = 150.0
    return image, breast


def render(rng: np.random.Generator, grid: Grid) -> Case:
    width, height = grid.size
    images, findings = {}, []
    for side in SIDES:
        kind = rng.choice(["none", "none", "benign", "malignant"], p=[0.35, 0.15, 0.2, 0.3])
        depth, level = rng.uniform(0.2, 0.45) * width, rng.uniform(0.3, 0.7) * height
        x = depth if side == "R" else width - 1 - depth
        radius = rng.uniform(0.07, 0.11) * width
        for view in ("cc", "mlo"):
            image, breast = _breast(rng, grid, side, view)
            if kind != "none":
                y = level if view == "cc" else min(level * 1.1, height - radius)
                mass = ellipsoid(grid, (x, y), radius)
                if kind == "malignant":  # spiculated: the margin follows a rough texture
                    mass = ellipsoid(grid, (x, y), radius * 1.3) & (texture(rng, grid, 1.2) > -0.3)
                    mass &= ellipsoid(grid, (x, y), radius * 1.3)
                image[mass & breast] = 175.0 if kind == "malignant" else 130.0
            images[f"{side.lower()}_{view}"] = finish(image, rng, 6.0)
        if kind != "none":
            findings.append(
                Finding(
                    "mass",
                    (round(x, 2), round(level, 2)),
                    radius,
                    {"side": side, "malignant": kind == "malignant"},
                )
            )
    return Case(images, None, findings)


def truth(case: Case, grid: Grid) -> dict[str, Any]:
    malignant = {f.attrs["side"] for f in case.findings if f.attrs["malignant"]}
    return {"breasts": {side: side in malignant for side in SIDES}}


SPEC = TrackSpec(
    track=6,
    roles=ROLES,
    fov_mm=(64.0, 64.0),
    default_size=(64, 64),
    origin=(0.0, 0.0),
    dtype=np.uint8,
    render=render,
    truth=truth,
    background=5.0,
    tissue=70.0,
    bright=200.0,
    noise=6.0,
)
