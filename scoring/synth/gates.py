"""Cases for the two gates: phantoms, non-human images, duplicates and stitched images.

A phantom is what a QA scan looks like: a perfectly round body with regular inserts of
graded contrast and almost no noise. A non-human image is either an animal (a small,
elongated body with a chain of vertebrae) or an object (a box with a regular grid inside).
"""

from __future__ import annotations

import numpy as np

from scoring.synth.base import Case, Grid, TrackSpec
from scoring.synth.shapes import centre_of, ellipsoid, finish


def _centre(grid: Grid) -> tuple[float, ...]:
    return centre_of(grid, *([0.5] * len(grid.size)))


def _body_radii(grid: Grid, *fractions: float) -> list[float]:
    """Radii in mm; a 3-D body spans every slice, like a scanned cylinder."""
    fov = grid.fov
    radii = [f * size for f, size in zip(fractions, fov, strict=False)]
    return radii + [fov[2]] if len(fov) == 3 else radii


def phantom(spec: TrackSpec, grid: Grid, rng: np.random.Generator) -> Case:
    centre = _centre(grid)
    radius = grid.fov[0] * rng.uniform(0.38, 0.44)
    base = np.full(grid.shape, spec.background)
    base[ellipsoid(grid, centre, _body_radii(grid, radius / grid.fov[0], radius / grid.fov[1]))] = (
        spec.tissue
    )
    turn = rng.uniform(0, 2 * np.pi)
    for k in range(8):
        angle = turn + k * np.pi / 4
        at = list(centre)
        at[0] += grid.voxels(radius * 0.6)[0] * np.cos(angle)
        at[1] += grid.voxels(radius * 0.6)[1] * np.sin(angle)
        contrast = spec.background + (spec.bright - spec.background) * (k + 1) / 8
        base[ellipsoid(grid, at, _body_radii(grid, 0.05, 0.05))] = contrast
    images = {role: finish(base, rng, spec.noise * 0.1) for role in spec.roles}
    return Case(images, None, [])


def non_human(spec: TrackSpec, grid: Grid, rng: np.random.Generator) -> Case:
    centre = list(_centre(grid))
    base = np.full(grid.shape, spec.background)
    if rng.random() < 0.5:  # an animal: narrow body, spine of small bright vertebrae
        centre[1] += grid.size[1] * rng.uniform(-0.15, 0.15)
        body = _body_radii(grid, 0.42, rng.uniform(0.1, 0.14))
        base[ellipsoid(grid, centre, body)] = spec.tissue
        for k in np.linspace(-0.8, 0.8, 9):
            at = list(centre)
            at[0] += grid.voxels(body[0])[0] * k
            base[ellipsoid(grid, at, _body_radii(grid, 0.03, 0.03))] = spec.bright
    else:  # an object: a box with a regular grid of bright cells
        half = (np.asarray(grid.size) * rng.uniform(0.3, 0.4)).astype(int)
        lo, hi = np.asarray(centre, int) - half, np.asarray(centre, int) + half
        box = tuple(slice(a, b) for a, b in zip(lo[::-1], hi[::-1], strict=True))
        base[box] = spec.tissue
        cells = np.zeros(grid.shape, bool)
        cells[..., ::4, ::4] = True
        cells[..., 1::4, 1::4] = True
        base[box][cells[box]] = spec.bright
    images = {role: finish(base, rng, spec.noise) for role in spec.roles}
    return Case(images, None, [])


def near_duplicate(case: Case, rng: np.random.Generator) -> Case:
    """The same acquisition saved again: fresh noise (2 % of the image's range) and a
    slight change of scale."""
    gain = rng.uniform(0.97, 1.03)
    images = {}
    for role, image in case.images.items():
        low, high = np.percentile(image, [1.0, 99.0])
        images[role] = image * gain + rng.normal(0.0, 0.02 * (high - low), image.shape)
    return Case(images, case.labels, case.findings)


def stitched(left: Case, right: Case, column: int) -> Case:
    """The left part of one case joined to the right part of another at ``column`` (x)."""
    images = {
        role: np.concatenate(
            [left.images[role][..., :column], right.images[role][..., column:]], axis=-1
        )
        for role in left.images
    }
    labels = None
    if left.labels is not None and right.labels is not None:
        labels = np.concatenate([left.labels[..., :column], right.labels[..., column:]], axis=-1)
    findings = [f for f in left.findings if f.centre[0] < column - 0.5] + [
        f for f in right.findings if f.centre[0] >= column - 0.5
    ]
    return Case(images, labels, findings)
