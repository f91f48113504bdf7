"""``huiyan score``: score one track's predictions against the truth, offline.

Exit status: 0 scored; 1 an input file is invalid (one line per problem on stderr);
2 a usage error (one line on stderr). The JSON form is the canonical breakdown bytes, the same
an arbitrator gets when re-scoring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scoring.breakdown import score_track, to_json
from scoring.errors import InputsInvalid
from scoring.rules import TRACKS, RulesInvalid, load_rules


class _OneLineUsageError(click.UsageError):
    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class _Command(click.Command):
    """Reports click's own usage errors (missing option, bad value) on one line, exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _OneLineUsageError(error.format_message(), ctx) from None


def _existing_file(value: str, option: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise _OneLineUsageError(f"{option}: no such file: {value}")
    return path


@click.command("score", cls=_Command)
@click.option("--track", "track_text", required=True, help="Track number, 1 to 8.")
@click.option("--predictions", required=True, help="predictions.json (its folder holds the files).")
@click.option("--truth", required=True, help="truth.json of the test set.")
@click.option("--rules", "rules_file", default=None, help="Rules document (default: shipped 2026).")
@click.option("--json", "as_json", is_flag=True, help="Print the canonical JSON breakdown.")
@click.option("--plots", default=None, help="Folder to write ROC / FROC / confusion PNGs into.")
def score(
    track_text: str,
    predictions: str,
    truth: str,
    rules_file: str | None,
    as_json: bool,
    plots: str | None,
) -> None:
    """Score a track: every metric, the gates, rule and code versions, input SHA-256s."""
    try:
        track = int(track_text)
    except ValueError:
        track = 0
    if track not in TRACKS:
        raise _OneLineUsageError(f"--track must be a number from 1 to 8, got {track_text!r}")
    predictions_path = _existing_file(predictions, "--predictions")
    truth_path = _existing_file(truth, "--truth")
    try:
        rules = load_rules(_existing_file(rules_file, "--rules") if rules_file else None)
    except RulesInvalid as error:
        raise _OneLineUsageError(str(error)) from None
    try:
        scored = score_track(track, predictions_path, truth_path, rules)
    except InputsInvalid as error:
        click.echo(f"{error.source} invalid: {error.total} problems", err=True)
        for problem in error.problems:
            click.echo(f"{error.source}: {problem}", err=True)
        if error.total > len(error.problems):
            unlisted = error.total - len(error.problems)
            click.echo(f"{error.source}: ... and {unlisted} more, not listed", err=True)
        raise SystemExit(1) from None
    if plots:
        from scoring.plots import write_figures

        write_figures(scored.figures, Path(plots))
    if as_json:
        click.echo(to_json(scored.breakdown).decode("utf-8"), nl=False)
    else:
        click.echo(_human(scored.breakdown))


def _human(breakdown: dict[str, Any]) -> str:
    lines = [
        f"track {breakdown['track']} ({breakdown['track_name']})",
        f"rules {breakdown['rules']['version']} sha256 {breakdown['rules']['sha256']}",
        "scoring code "
        + ", ".join(f"{k} {v}" for k, v in sorted(breakdown["scoring_code"].items())),
        f"predictions sha256 {breakdown['predictions']['sha256']}"
        f" (+{len(breakdown['predictions']['files'])} files)",
        f"truth sha256 {breakdown['truth']['sha256']} (+{len(breakdown['truth']['files'])} files)",
    ]
    gates = breakdown["gates"]
    for name in ("authenticity", "conformity"):
        lines.append(f"gate {name}: {'passed' if gates[name]['passed'] else 'FAILED'}")
        lines.extend(_flatten(gates[name], f"  {name}.", skip={"passed", "pass_marks"}))
    primary = breakdown["primary"]
    lines.append(f"primary {primary['name']}: {_format(primary['value'])}")
    lines.extend(_flatten(breakdown["metrics"], "  "))
    return "\n".join(lines)


def _flatten(value: dict[str, Any], prefix: str, skip: set[str] = frozenset()) -> list[str]:
    lines = []
    for key, item in value.items():
        if key in skip:
            continue
        if isinstance(item, dict) and "matrix" not in item:
            lines.extend(_flatten(item, f"{prefix}{key}."))
        elif isinstance(item, dict):
            lines.append(f"{prefix}{key}: {item['labels']} {item['matrix']}")
        else:
            lines.append(f"{prefix}{key}: {_format(item)}")
    return lines


def _format(value: Any) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
