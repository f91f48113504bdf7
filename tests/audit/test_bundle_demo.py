"""Audit bundles of a whole judged contest: `huiyan demo` plays registration, the round, the
review, publication, two appeals (one upheld and re-scored, one dismissed) and the final; each
appeal's bundle, a team's and the whole ledger's then verify offline, every kind of decision's
personal signature is judged by the standalone verifier as huiyan judges it, and an arbitrator
who was not drawn for an appeal may not export it."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner

from audit.access_log import AccessLog
from huiyan_cli import main
from ledger.settings import Settings
from tests.audit.bundles import MUTATIONS, judged_alike, load_verifier
from tests.flows import Huiyan, Person

pytestmark = pytest.mark.slow

VERIFY = load_verifier()
LATER = "2026-10-20T10:00:00+08:00"  # after the demo's final


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Huiyan:
    work = tmp_path_factory.mktemp("demo")
    env = {"HUIYAN_HOME": str(work / "home"), "HUIYAN_DATABASE_URL": "", "HUIYAN_CLOCK": ""}
    played = CliRunner().invoke(main, ["demo", "--fresh", "--no-serve"], env=env,
                                catch_exceptions=False)  # fmt: skip
    assert played.exit_code == 0, played.output
    home = work / "home"
    huiyan = Huiyan(home, f"sqlite:///{home / 'huiyan.sqlite3'}")
    lines = (home / "demo-credentials.txt").read_text().splitlines()
    credentials = dict(line.split(": ", 1) for line in lines if ": " in line)  # the organiser's
    huiyan.people["organiser"] = Person("organiser", credentials["password"], credentials["totp"])
    (work / "ledger.vkeys").write_text(huiyan.ok("ledger", "keys", clock=LATER) + "\n")
    return huiyan


def stored(demo: Huiyan, topic: str) -> list[UUID]:
    with sqlite3.connect(demo.home / "huiyan.sqlite3") as conn:
        found = conn.execute(
            "SELECT originator_id FROM ledger_events WHERE topic LIKE ? ORDER BY position",
            (f"%:{topic}",),
        ).fetchall()
    return [UUID(bytes=row[0]) for row in found]


def export(demo: Huiyan, *args: str, out: str) -> Path:
    path = demo.home.parent / out
    demo.ok("audit", "export", *args, "--out", str(path), clock=LATER)
    return path


def verified(demo: Huiyan, bundle: Path, capsys) -> str:
    code = VERIFY.main([str(bundle), "--keys", str(demo.home.parent / "ledger.vkeys")])
    line = capsys.readouterr().out
    assert code == 0 and line.startswith("bundle intact: "), line
    return line


def events_of(bundle: Path) -> list[dict]:
    with zipfile.ZipFile(bundle) as archive:
        return [json.loads(line) for line in archive.read("events.jsonl").splitlines()]


def test_each_appeals_bundle_carries_its_matter_and_verifies(demo, capsys):
    appeals = stored(demo, "Appeal.Filed")
    assert len(appeals) == 2
    for number, appeal in enumerate(appeals):
        bundle = export(demo, "--appeal", str(appeal), out=f"appeal-{number}.zip")
        verified(demo, bundle, capsys)
        events = events_of(bundle)
        kinds = {event["topic"].rsplit(":", 1)[1] for event in events}
        assert {"Appeal.Filed", "Appeal.Drawn", "Appeal.Ruled", "Submission.Submitted",
                "Submission.ScoreComputed", "Review.Scored", "Results.Published",
                "Account.Opened"} <= kinds  # fmt: skip
        meanings = {
            json.loads(bytes.fromhex(e["state"]))["personal_signature"]["manifest"]["meaning"]
            for e in events
            if b"personal_signature" in bytes.fromhex(e["state"])
        }
        assert {"appealed", "ruled", "scored", "published"} <= meanings
        signers = {
            json.loads(bytes.fromhex(e["state"]))["personal_signature"]["manifest"]["signer"]
            for e in events
            if b"personal_signature" in bytes.fromhex(e["state"])
        }
        opened = {e["originator_id"] for e in events if e["topic"].endswith("Account.Opened")}
        assert signers <= opened  # every signer's key enrolment travels with the matter


def test_a_team_and_the_whole_contest_verify(demo, capsys):
    team = stored(demo, "Team.Registered")[0]
    verified(demo, export(demo, "--team", str(team), out="team.zip"), capsys)
    whole = export(demo, "--all", out="all.zip")
    line = verified(demo, whole, capsys)
    assert f"{len(events_of(whole))} entries" in line
    for mutation in MUTATIONS:
        meanings = judged_alike(VERIFY, whole, mutation)
        assert {"approved", "published", "declared", "scored", "appealed", "ruled",
                "awarded"} <= set(meanings)  # fmt: skip


def test_an_arbitrator_not_drawn_may_not_export_the_appeal(demo):
    demo.account("arbiter-z", "arbitrator", clock=LATER)
    appeal = str(stored(demo, "Appeal.Filed")[0])
    refused = demo("audit", "export", "--appeal", appeal, "--out",
                   str(demo.home.parent / "no.zip"), who="arbiter-z", clock=LATER)  # fmt: skip
    assert refused.exit_code == 2 and "[appeal.not_yours]" in refused.output, refused.output
    log = AccessLog.open(Settings.from_env(demo.env)).entries(what="read.audit_bundle")
    assert [(e["role"], e["subject"], e["outcome"]) for e in log][-1] == (
        "arbitrator",
        appeal,
        "refused",
    )
