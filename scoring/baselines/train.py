"""Train the baseline bundles on synthetic phantoms: ``python -m scoring.baselines.train``.

For each track it draws phantom cases in memory (seed fixed per track), trains the gate
network and the track network of ``predict.py`` for a fixed number of steps on one CPU
thread (so the same weights come out on every machine), and writes the bundle folder
``scoring/baselines/track<N>/weights.pt`` (``bundle_path`` adds the shared ``predict.py``).
Options: ``--track N`` (repeatable; default all), ``--steps S``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from monai.losses import DiceCELoss
from sklearn.linear_model import LogisticRegression

from scoring.baselines import predict as runtime
from scoring.synth import SPECS, gates
from scoring.synth.base import Case, TrackSpec
from scoring.synth.dataset import cast

HERE = Path(__file__).resolve().parent
TRAIN_SEED = 20260801  # far from the seeds the tests and the demo use
REAL_CASES, GATE_CASES_PER_KIND = 160, 48  # gate network: every real case, 48 of each other kind
BATCH = 8


def _arrays(case: Case, spec: TrackSpec) -> dict[str, np.ndarray]:
    """The images as the model will read them from disk: cast to the file's pixel type."""
    return {role: cast(case.images[role], spec.dtype) for role in spec.roles}


def _inputs(case: Case, spec: TrackSpec) -> torch.Tensor:
    return runtime.to_work(list(_arrays(case, spec).values()), spec.track)[0]


def _gate_examples(
    spec: TrackSpec, real: list[Case], rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, authenticity classes and stitched flags of the gate examples."""
    grid = spec.grid()
    examples: list[tuple[Case, int, float]] = [(case, 0, 0.0) for case in real]
    for _ in range(GATE_CASES_PER_KIND):
        examples.append((gates.phantom(spec, grid, rng), 1, 0.0))
        examples.append((gates.non_human(spec, grid, rng), 2, 0.0))
        left, right = rng.choice(len(real), size=2, replace=False)
        shift = grid.size[0] // 8
        column = grid.size[0] // 2 + int(rng.integers(-shift, shift + 1))
        examples.append((gates.stitched(real[left], real[right], column), 0, 1.0))
    inputs = torch.stack([_inputs(case, spec) for case, _, _ in examples])
    kinds = torch.tensor([kind for _, kind, _ in examples])
    stitched = torch.tensor([flag for _, _, flag in examples])
    return inputs, kinds, stitched


def _seam_calibration(
    inputs: torch.Tensor, kinds: torch.Tensor, stitched: torch.Tensor
) -> list[float]:
    """Slope and offset of a logistic fit of stitched on the seam score, over human images."""
    human = kinds == 0
    scores = np.array([[runtime.seam_score(x[None])] for x in inputs[human]])
    fit = LogisticRegression(C=100.0).fit(scores, stitched[human].numpy())
    return [float(fit.coef_[0, 0]), float(fit.intercept_[0])]


def _track_examples(spec: TrackSpec, real: list[Case]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets of the track network (a label map, or image-level labels)."""
    track = spec.track
    if track == 6:
        inputs, targets = [], []
        for case in real:
            malignant = spec.truth(case, spec.grid())["breasts"]
            for side, views in runtime.breast_inputs(_arrays(case, spec)).items():
                inputs.append(runtime.to_work(views, track)[0])
                targets.append([float(malignant[side])])
        return torch.stack(inputs), torch.tensor(targets)
    inputs = torch.stack([_inputs(case, spec) for case in real])
    if track == 7:
        labels = [spec.truth(case, spec.grid())["label"] for case in real]
        return inputs, torch.tensor([runtime.US_CLASSES.index(label) for label in labels])
    if track == 8:
        rows = [spec.truth(case, spec.grid())["findings"] for case in real]
        return inputs, torch.tensor([[float(row[c]) for c in runtime.CXR_LABELS] for row in rows])
    return inputs, torch.stack(
        [torch.from_numpy(case.labels.astype(np.int64))[None] for case in real]
    )


def _track_loss(track: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if track == 7:
        return F.cross_entropy
    if track in (6, 8):
        return F.binary_cross_entropy_with_logits
    return DiceCELoss(to_onehot_y=True, softmax=True)


def _fit(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    steps: int,
    generator: torch.Generator,
    rate: float,
) -> float:
    optimiser = torch.optim.Adam(model.parameters(), lr=rate)
    model.train()
    value = float("nan")
    for _ in range(steps):
        batch = torch.randint(len(inputs), (BATCH,), generator=generator)
        optimiser.zero_grad()
        error = loss(model(inputs[batch]), targets[batch])
        error.backward()
        optimiser.step()
        value = error.item()
    return value


def train(track: int, steps: int) -> Path:
    """Train one track's bundle and write it; returns the bundle folder."""
    torch.manual_seed(TRAIN_SEED + track)
    generator = torch.Generator().manual_seed(TRAIN_SEED + track)
    rng = np.random.default_rng([TRAIN_SEED, track])
    spec = SPECS[track]
    real = [
        spec.render(np.random.default_rng([TRAIN_SEED, track, i]), spec.grid())
        for i in range(REAL_CASES)
    ]
    gate_net, model = runtime.build(track)
    inputs, kinds, stitched = _gate_examples(spec, real, rng)
    gate_loss = _fit(gate_net, inputs, kinds, F.cross_entropy, steps, generator, rate=1e-3)
    track_loss = _fit(
        model, *_track_examples(spec, real), _track_loss(track), steps, generator, rate=3e-3
    )
    bundle = HERE / f"track{track}"
    bundle.mkdir(exist_ok=True)
    state = {
        "track": track,
        "gates": gate_net.state_dict(),
        "model": model.state_dict(),
        "seam": _seam_calibration(inputs, kinds, stitched),
    }
    torch.save(state, bundle / "weights.pt")
    print(f"track {track}: gate loss {gate_loss:.3f}, track loss {track_loss:.3f} -> {bundle}")
    return bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--track", type=int, action="append", choices=sorted(SPECS))
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for track in args.track or sorted(SPECS):
        train(track, args.steps)


if __name__ == "__main__":
    main()
