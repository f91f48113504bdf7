"""The organiser's and a team's steps through the CLI, shared by the tests that need a contest
in a given state (an approved team, a hidden test set, a submission)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from pypdf import PdfWriter

from huiyan_cli import main
from scoring.baselines import bundle_path
from scoring.synth import make_dataset

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
REGISTRATION_TIME = "2026-06-20T10:00:00+08:00"
ROUND_TIME = "2026-08-03T10:00:00+08:00"


class Huiyan:
    """``huiyan`` run in-process with one instance's environment."""

    def __init__(self, home: Path, database_url: str, redis_url: str = "") -> None:
        self.env = {
            "HUIYAN_HOME": str(home),
            "HUIYAN_DATABASE_URL": database_url,
            "HUIYAN_REDIS_URL": redis_url,
            "HUIYAN_ACTOR": "organiser",
            "HUIYAN_CLOCK": ROUND_TIME,
        }

    def __call__(self, *args: str, clock: str = ROUND_TIME, stdin: str | None = None) -> Result:
        env = dict(self.env, HUIYAN_CLOCK=clock)
        return CliRunner().invoke(main, list(args), env=env, input=stdin)

    def ok(self, *args: str, **kwargs) -> str:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, result.output
        return result.output.strip()


def approved_team(huiyan: Huiyan) -> str:
    """The 2026 contest with its rules, and one team registered and approved; its id."""
    at = {"clock": REGISTRATION_TIME}
    huiyan.ok("account", "create", "--login", "organiser", "--role", "organiser",
              "--password-stdin", stdin="correct horse battery staple\n", **at)  # fmt: skip
    huiyan.ok("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml"), **at)
    huiyan.ok("rules", "publish", "--file", str(EXAMPLES / "rules-2026.yaml"), **at)
    team = huiyan.ok("team", "register", "--file", str(EXAMPLES / "team-yongjiang.yaml"), **at)
    huiyan.ok("team", "submit", team, **at)
    huiyan.ok("review", "approve", team, **at)
    return team


def blank_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def ready_to_submit(huiyan: Huiyan, work: Path, track: int = 7, cases: int = 8) -> str:
    """An approved team and the track's hidden test set in place; the team's id."""
    team = approved_team(huiyan)
    huiyan.ok("testset", "add", "--track", str(track), "--dir",
              str(make_dataset(track, cases, work / f"testset-{track}", 0)))  # fmt: skip
    return team


def submit(
    huiyan: Huiyan,
    team: str,
    work: Path,
    model: Path | None = None,
    track: int = 7,
    clock: str = ROUND_TIME,
) -> str:
    report = work / "report.pdf"
    if not report.exists():
        blank_pdf(report)
    model = model or bundle_path(track)
    return huiyan.ok("submit", "--team", team, "--track", str(track), "--model", str(model),
                     "--report", str(report), clock=clock)  # fmt: skip
