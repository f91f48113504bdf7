"""`huiyan submit`, `testset add`, `submission show|list` and `debug-phase` end to end on a
SQLite ledger, after registering and approving a team through the registration commands."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path

import pytest

from scoring.synth import make_dataset
from tests import flows
from tests.flows import Huiyan
from workers.models import tree_sha256

REGISTRATION_TIME = "2026-06-25T23:59:59+08:00"


@pytest.fixture
def run(tmp_path) -> Huiyan:
    return Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip()


def refused(result, needle: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def approved_team(run) -> str:
    return flows.approved_team(run)


@pytest.fixture
def bundle(tmp_path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "predict.py").write_text("import json\n")
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 100)
    return folder


@pytest.fixture
def report(tmp_path) -> Path:
    return flows.blank_pdf(tmp_path / "report.pdf")


@pytest.fixture
def testset(tmp_path) -> Path:
    return make_dataset(7, 3, tmp_path / "thyroid-test", 0)


def test_a_team_submits_through_the_cli(run, approved_team, bundle, report, testset, tmp_path):
    team = approved_team
    model = ["--team", team, "--track", "7", "--model", str(bundle), "--report", str(report)]
    refused(run("submit", *model), "[testset.missing]")
    added = ok(run("testset", "add", "--track", "7", "--dir", str(testset)))
    digest, count = added.split()[:2]
    assert count == "3" and (tmp_path / "home" / "testsets" / digest / "truth").is_dir()
    refused(run("testset", "add", "--track", "7", "--dir", str(testset)), "[testset.unchanged]")
    # replacing the set once the round is on is a decision with a reason
    other = make_dataset(7, 4, tmp_path / "thyroid-other", 1)
    refused(
        run("testset", "add", "--track", "7", "--dir", str(other)), "[decision.reason_required]"
    )
    refused(run("testset", "add", "--track", "9", "--dir", str(testset)), "[team.track_unknown]")

    refused(run("submit", *model, clock="2026-07-31T23:59:59+08:00"), "[submission.window_closed]")
    submission = ok(run("submit", *model))
    assert uuid.UUID(submission)
    shown = json.loads(ok(run("submission", "show", submission)))
    files = {p.name: _sha256(p) for p in bundle.iterdir()}
    assert shown["model_kind"] == "bundle" and shown["model_ref"] == tree_sha256(files)
    assert shown["status"] == "submitted" and shown["track"] == 7
    assert (tmp_path / "home" / "models" / shown["model_ref"] / "predict.py").is_file()
    # the report is sealed under the team's key: the blob is not the PDF's own bytes
    assert shown["report_sha256"] != _sha256(report)
    listed = json.loads(ok(run("submission", "list", "--team", team)))
    assert [entry["id"] for entry in listed] == [submission]

    ok(run("submit", *model))
    ok(run("submit", *model))
    refused(run("submit", *model), "[submission.daily_quota]")
    ok(run("submit", *model, clock="2026-08-04T00:00:00+08:00"))


def test_refused_models_and_reports_leave_nothing(run, approved_team, report, testset, tmp_path):
    ok(run("testset", "add", "--track", "7", "--dir", str(testset), clock=REGISTRATION_TIME))
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        for name in ("predict.py", "../evil.py"):
            info = tarfile.TarInfo(name)
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
    team = ["--team", approved_team, "--track", "7", "--report", str(report)]
    refused(run("submit", *team, "--model", str(evil)), "points outside the bundle")
    refused(run("submit", *team, "--model", "huiyan-test/absent:never"), "never by tag")
    refused(run("submit", *team, "--model", str(tmp_path / "nope")), "no such folder or file")
    not_pdf = tmp_path / "report.pdf.txt"
    not_pdf.write_text("hello")
    bundle = tmp_path / "ok"
    bundle.mkdir()
    (bundle / "predict.py").write_text("")
    refused(run("submit", *team[:4], "--report", str(not_pdf), "--model", str(bundle)), "PDF")
    refused(run("submit", *team[:2], "--track", "1", "--model", str(bundle),
                "--report", str(report)), "[testset.missing]")  # fmt: skip
    assert list((tmp_path / "home" / "models").glob("*")) == []
    assert json.loads(ok(run("submission", "list", "--team", approved_team))) == []


def test_the_organiser_opens_and_closes_the_debug_phase(run, approved_team):
    ok(run("debug-phase", "open", "--log-cap", "4096"))
    refused(run("debug-phase", "open"), "[debug.already_open]")
    ok(run("debug-phase", "close"))
    refused(run("debug-phase", "close"), "[debug.already_closed]")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
