"""The README's main job, on the embedded default (SQLite, no server), must end intact."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from click.testing import CliRunner

from huiyan_cli import main
from ledger.settings import Settings
from tests.web.site import Visitor
from web import create_app

AFTER_THE_DEMO = "2026-11-02T10:00:00+08:00"


def test_demo_plays_the_contest_and_the_auditor_finds_it_intact(tmp_path):
    env = {"HUIYAN_HOME": str(tmp_path / "home"), "HUIYAN_DATABASE_URL": "", "HUIYAN_CLOCK": ""}
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--fresh", "--no-serve"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    teams = [line.split(":", 1)[1].strip() for line in lines if line.strip().startswith("team ")]
    assert sorted(teams) == ["approved", "approved", "disqualified"]
    # Each approved team's baseline ran in the sandbox and was scored, in the teams' tracks.
    submissions = [line for line in lines if line.strip().startswith("submission ")]
    assert [line.split(":")[0].split(",")[-1].strip() for line in submissions] == [
        "track 1",
        "track 7",
        "track 8",
    ]
    assert all("efficiency" in line and "gates" in line for line in submissions), submissions
    assert lines[-1].split() == ["verify", "intact"]
    credentials = tmp_path / "home" / "demo-credentials.txt"
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600
    assert "password" not in result.output.replace("demo-credentials", "")
    # An auditor with only the exported keys reaches the same verdict.
    keys = runner.invoke(main, ["ledger", "keys"], env=env).output
    (tmp_path / "trusted.vkeys").write_text(keys)
    verify = runner.invoke(
        main, ["ledger", "verify", "--keys", str(tmp_path / "trusted.vkeys"), "--json"], env=env
    )
    report = json.loads(verify.output)
    assert verify.exit_code == 0
    assert report["intact"] and report["size"] > 20
    # Someone trying the served demo can be each of its people: the summary names one of each
    # role, the 0600 file holds their passwords (and a privileged person's TOTP secret), and
    # each signs in to the web application with them, the arbitrator with their phone's code.
    named = {line.split()[0]: line for line in lines if line.startswith("  ")}
    for role, login in [("organiser", "organiser"), ("leaders", "lead-yongjiang"),
                        ("experts", "expert-1"), ("arbitrators", "arbitrator-1"),
                        ("compliance", "compliance-1")]:  # fmt: skip
        assert login in named[role], named
    signed_in_with_the_demo_credentials(env, credentials)
    # Running it again starts from an empty folder and succeeds again.
    again = runner.invoke(main, ["demo", "--fresh", "--no-serve"], env=env, catch_exceptions=False)
    assert again.exit_code == 0, again.output


def signed_in_with_the_demo_credentials(env: dict[str, str], credentials: Path) -> None:
    """Each demo person in the file signs in to the web application; the arbitrator only
    with the code `huiyan demo code --login arbitrator-1` gives."""
    passwords = {
        words[0]: words[2]
        for words in map(str.split, credentials.read_text().splitlines())
        if len(words) >= 3 and not words[0].startswith("#") and not words[0].endswith(":")
    }
    after = {**env, "HUIYAN_CLOCK": AFTER_THE_DEMO}
    code = CliRunner().invoke(main, ["demo", "code", "--login", "arbitrator-1"], env=after)
    assert code.exit_code == 0 and len(code.output.strip()) == 6, code.output
    app = create_app(Settings.from_env(after), config={"TESTING": True})
    for login, given, status in [("lead-yongjiang", "", 302), ("expert-1", "", 302),
                                 ("compliance-1", "", 200),  # refused: no code
                                 ("arbitrator-1", code.output.strip(), 302)]:  # fmt: skip
        visitor = Visitor(app)
        answer = visitor.submit(
            "/sign-in", {"login": login, "password": passwords[login], "code": given}
        )
        assert answer.status_code == status, (login, answer.get_data(as_text=True)[-500:])
