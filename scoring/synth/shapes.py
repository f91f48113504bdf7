"""Drawing primitives on a grid: ellipsoids, tubes, textures and noise.

Positions are continuous voxel indices in SimpleITK order (x, y[, z]); sizes are millimetres,
so that a lesion has the same physical size whatever the grid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from scoring.synth.base import Grid


def _axes(grid: Grid) -> list[np.ndarray]:
    """Open index grids in SimpleITK order, each broadcastable to the numpy shape."""
    return np.ogrid[tuple(slice(0, n) for n in grid.shape)][::-1]


def ellipsoid(grid: Grid, centre: Sequence[float], radii_mm: float | Sequence[float]) -> np.ndarray:
    """Boolean mask of an axis-aligned ellipsoid (a disc or an ellipse on a 2-D grid)."""
    radii = np.maximum(grid.voxels(radii_mm), 0.5)
    total = sum(
        ((axis - c) / r) ** 2 for axis, c, r in zip(_axes(grid), centre, radii, strict=True)
    )
    return total <= 1.0


def tube(grid: Grid, start: Sequence[float], end: Sequence[float], radius_mm: float) -> np.ndarray:
    """Boolean mask of a straight vessel between two voxel positions, measured in mm."""
    spacing = np.asarray(grid.spacing)
    a, b = np.asarray(start, float) * spacing, np.asarray(end, float) * spacing
    axes = [axis * s for axis, s in zip(_axes(grid), spacing, strict=True)]
    ab = b - a
    t = sum((axis - ai) * d for axis, ai, d in zip(axes, a, ab, strict=True)) / float(ab @ ab)
    t = np.clip(t, 0.0, 1.0)
    dist2 = sum((axis - (ai + t * d)) ** 2 for axis, ai, d in zip(axes, a, ab, strict=True))
    return dist2 <= max(radius_mm, 0.6 * float(spacing.min())) ** 2


def texture(rng: np.random.Generator, grid: Grid, scale_mm: float) -> np.ndarray:
    """Smooth random texture with unit standard deviation and a feature size in mm."""
    field = ndimage.gaussian_filter(rng.standard_normal(grid.shape), grid.voxels(scale_mm)[::-1])
    return field / (field.std() + 1e-9)


def finish(image: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """A scanner's blur and noise on top of the drawn anatomy."""
    return ndimage.gaussian_filter(image, 0.6) + rng.normal(0.0, noise, image.shape)


def inside(
    rng: np.random.Generator,
    grid: Grid,
    centre: Sequence[float],
    radii_mm: Sequence[float],
    avoid: Sequence[tuple[Sequence[float], float]] = (),
    radius_mm: float = 0.0,
) -> tuple[float, ...]:
    """A random voxel position inside an ellipsoid, away from its border and, when it can,
    from the (centre, radius) lesions in ``avoid`` so that lesions stay separate."""
    spacing = np.asarray(grid.spacing)
    for _ in range(20):
        direction = rng.standard_normal(len(centre))
        direction /= np.linalg.norm(direction) + 1e-9
        offset = direction * rng.uniform(0.0, 0.6) * grid.voxels(radii_mm)
        point = np.asarray(centre, float) + offset
        clear = all(
            np.linalg.norm((point - np.asarray(c)) * spacing) > radius_mm + r for c, r in avoid
        )
        if clear:
            break
    return tuple(round(float(p), 2) for p in point)


def centre_of(grid: Grid, *fractions: float) -> tuple[float, ...]:
    """A voxel position given as fractions of the field of view along each axis."""
    return tuple((n - 1) * f for n, f in zip(grid.size, fractions, strict=True))
