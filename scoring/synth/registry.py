"""The phantom recipe of each track, by track number."""

from __future__ import annotations

from scoring.synth import (
    aneurysm_cta,
    chest_xray,
    glioma_mri,
    kidney_ct,
    lung_ct,
    mammography,
    prostate_mri,
    thyroid_us,
)
from scoring.synth.base import TrackSpec

SPECS: dict[int, TrackSpec] = {
    module.SPEC.track: module.SPEC
    for module in (
        lung_ct, kidney_ct, aneurysm_cta, glioma_mri,
        prostate_mri, mammography, thyroid_us, chest_xray,
    )
}  # fmt: skip
