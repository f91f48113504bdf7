"""Properties: shuffled case order changes nothing, the same inputs give the same bytes."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.breakdown import score_track, to_json
from tests.scoring.factory import RULES, load, make_set, save

_SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST_TRACKS = st.sampled_from([1, 3, 6, 7, 8])


def _degrade(path: Path, rng: random.Random) -> None:
    """Blur a perfect prediction: random probabilities everywhere one is asked for."""
    document = load(path)

    def visit(value):
        if isinstance(value, dict):
            return {
                k: rng.random()
                if k in ("probability", "present", "malignancy")
                or (isinstance(v, float) and k not in ("x", "y", "z"))
                else visit(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [visit(v) for v in value]
        return value

    for case in document["cases"]:
        if "probabilities" in (case["track"] or {}):
            continue  # track 7 needs a distribution; leave it
        case["track"] = visit(case["track"])
        case["conformity"]["stitched"] = rng.random()
    save(path, document)


@_SETTINGS
@given(track=FAST_TRACKS, seed=st.integers(0, 10_000), cases=st.integers(3, 7))
def test_shuffling_the_cases_changes_no_byte(track, seed, cases):
    with tempfile.TemporaryDirectory() as folder:
        predictions, truth = make_set(track, Path(folder), cases=cases, seed=seed)
        _degrade(predictions, random.Random(seed))
        first = score_track(track, predictions, truth, RULES).breakdown
        for path in (predictions, truth):
            document = load(path)
            random.Random(seed + 1).shuffle(document["cases"])
            save(path, document)
        second = score_track(track, predictions, truth, RULES).breakdown
    # The file hashes change with the order; every metric must not.
    for key in ("predictions", "truth"):
        first.pop(key)
        second.pop(key)
    assert to_json(first) == to_json(second)


@_SETTINGS
@given(track=FAST_TRACKS, seed=st.integers(0, 10_000))
def test_the_same_inputs_give_the_same_bytes_and_a_perfect_score(track, seed):
    with tempfile.TemporaryDirectory() as folder:
        predictions, truth = make_set(track, Path(folder), cases=4, seed=seed)
        first = to_json(score_track(track, predictions, truth, RULES).breakdown)
        second = to_json(score_track(track, predictions, truth, RULES).breakdown)
    assert first == second
    assert b'"value": 1.0' in first
