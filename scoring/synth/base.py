"""The vocabulary of the phantom generator: a grid in world millimetres, a finding, a case.

Findings keep their centre in continuous voxel index (SimpleITK order x, y[, z]) and their
size in millimetres, so the truth can be given in world millimetres through SimpleITK itself,
which is what the metrics and the models use to read the files back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import SimpleITK as sitk


def _float32_exact(value: float) -> float:
    """Round to 1/256 mm, which NIfTI's float32 header fields keep exactly."""
    return round(value * 256) / 256


@dataclass(frozen=True)
class Grid:
    """The sampling of one image: size, spacing and origin in SimpleITK (x, y[, z]) order."""

    size: tuple[int, ...]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]

    @classmethod
    def covering(
        cls,
        fov_mm: Sequence[float],
        size: Sequence[int],
        origin: Sequence[float],
        direction: Sequence[float] | None = None,
    ) -> Grid:
        """A grid of ``size`` voxels over a fixed field of view, so that anatomy keeps its
        proportions at every size while the spacing stays anisotropic."""
        spacing = tuple(_float32_exact(f / n) for f, n in zip(fov_mm, size, strict=True))
        dims = len(size)
        identity = tuple(float(i == j) for i in range(dims) for j in range(dims))
        return cls(
            size=tuple(int(n) for n in size),
            spacing=spacing,
            origin=tuple(_float32_exact(o) for o in origin),
            direction=tuple(direction) if direction is not None else identity,
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """The numpy shape of an array on this grid ((z,) y, x)."""
        return self.size[::-1]

    @property
    def fov(self) -> tuple[float, ...]:
        return tuple(n * s for n, s in zip(self.size, self.spacing, strict=True))

    @cached_property
    def _reference(self) -> sitk.Image:
        return self.image(np.zeros((1,) * len(self.size), np.uint8))

    def image(self, array: np.ndarray) -> sitk.Image:
        """Wrap a numpy array (numpy order) as a SimpleITK image on this grid."""
        image = sitk.GetImageFromArray(array)
        image.SetSpacing(self.spacing)
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)
        return image

    def world(self, index: Sequence[float]) -> tuple[float, ...]:
        """World millimetres of a continuous voxel index, as SimpleITK computes them."""
        point = self._reference.TransformContinuousIndexToPhysicalPoint([float(i) for i in index])
        return tuple(round(p, 3) for p in point)

    def voxels(self, mm: float | Sequence[float]) -> np.ndarray:
        """Millimetres to voxels along each axis (x, y[, z])."""
        return np.broadcast_to(np.asarray(mm, float), (len(self.size),)) / np.asarray(self.spacing)


@dataclass
class Finding:
    """One thing in a case that the truth may mention: a nodule, a tumour, a mass, a label."""

    kind: str
    centre: tuple[float, ...]
    radius_mm: float = 0.0
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    """A rendered case: float images per role (numpy order), a label map, and its findings."""

    images: dict[str, np.ndarray]
    labels: np.ndarray | None
    findings: list[Finding]


@dataclass(frozen=True)
class TrackSpec:
    """How to make the real-human cases of one track.

    ``render`` draws one case on a grid; ``truth`` turns a case's findings into the track
    truth of SCORING.md section 3 (``mask`` is filled in by the writer for mask tracks).
    ``background``/``tissue``/``bright`` and ``noise`` are the intensity palette the
    phantom and non-human cases borrow so that they look like the same scanner.
    """

    track: int
    roles: tuple[str, ...]
    fov_mm: tuple[float, ...]
    default_size: tuple[int, ...]
    origin: tuple[float, ...]
    dtype: type
    render: Callable[[np.random.Generator, Grid], Case]
    truth: Callable[[Case, Grid], dict[str, Any]]
    background: float
    tissue: float
    bright: float
    noise: float
    writes_mask: bool = False
    direction: tuple[float, ...] | None = None

    @property
    def planar(self) -> bool:
        return len(self.default_size) == 2

    @property
    def extension(self) -> str:
        return ".png" if self.planar else ".nii.gz"

    def grid(self, size: Sequence[int] | None = None) -> Grid:
        size = tuple(size) if size is not None else self.default_size
        if len(size) != len(self.default_size):
            raise ValueError(
                f"track {self.track} images are {len(self.default_size)}-D: size needs "
                f"{len(self.default_size)} numbers, got {len(size)}"
            )
        if min(size) < 8:
            raise ValueError(f"size {size}: every axis needs at least 8 voxels")
        if self.planar:  # PNG keeps no geometry: pixels are millimetres from the corner
            return Grid(size, (1.0, 1.0), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
        return Grid.covering(self.fov_mm, size, self.origin, self.direction)
