"""The README's main job, on the embedded default (SQLite, no server), must end intact."""

from __future__ import annotations

import json
import os
import stat

from click.testing import CliRunner

from huiyan_cli import main


def test_demo_plays_the_contest_and_the_auditor_finds_it_intact(tmp_path):
    env = {"HUIYAN_HOME": str(tmp_path / "home"), "HUIYAN_DATABASE_URL": "", "HUIYAN_CLOCK": ""}
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--fresh"], env=env, catch_exceptions=False)
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
    # Running it again starts from an empty folder and succeeds again.
    again = runner.invoke(main, ["demo", "--fresh"], env=env, catch_exceptions=False)
    assert again.exit_code == 0, again.output
