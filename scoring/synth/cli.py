"""``huiyan data``: make synthetic phantom datasets for the demo, the tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import click

from scoring.synth.dataset import SynthError, make_dataset
from scoring.synth.registry import SPECS


def _parse_size(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return tuple(int(part) for part in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a size like 256x256x128 or 64x64") from None


@click.group("data")
def data() -> None:
    """Synthetic datasets in the contest's input and truth layout."""


@data.command("synth")
@click.option("--track", type=click.IntRange(1, len(SPECS)), required=True, help="track number")
@click.option("--cases", type=click.IntRange(min=1), default=24, show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="absent or empty folder"
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--size",
    callback=_parse_size,
    help="voxels along x, y (and z): 32x32x16 for 3-D tracks, 64x64 for 2-D by default",
)
def synth(track: int, cases: int, out: Path, seed: int, size: tuple[int, ...] | None) -> None:
    """Write CASES phantom cases of TRACK to OUT/input and OUT/truth."""
    try:
        make_dataset(track, cases, out, seed, size=size)
    except SynthError as error:
        raise click.BadParameter(str(error), param_hint=f"'--{error.argument}'") from error
    click.echo(f"wrote {cases} track-{track} cases to {out}")
