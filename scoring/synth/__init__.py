"""Synthetic phantom data for the eight tracks, for the demo, the tests and the benchmarks.

``make_dataset(track, cases, out, seed)`` writes model input and organiser truth in the layout
of SCORING.md section 1; docs/data.md describes what each track's phantom contains.
"""

from scoring.synth.dataset import SynthError, make_dataset
from scoring.synth.registry import SPECS

__all__ = ["SPECS", "SynthError", "make_dataset"]
