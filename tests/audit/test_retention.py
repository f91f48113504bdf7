"""Retention and crypto-shredding end to end on a SQLite ledger (docs/audit.md): a team's key,
the contest's identity secret and the stores, each destroyed by the compliance officer's
signed decision, refused with nothing recorded otherwise, and the record still verifying.

One contest is built per module (a scored run takes a while): Yongjiang approved with a
scored track-7 submission, Lijiang submitted and awaiting review. Each test works on its own
copy of that instance."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from ledger.vault import Vault, VaultError
from scoring.synth import make_dataset
from tests import flows
from tests.flows import REGISTRATION_TIME, ROUND_TIME, Huiyan, form_team, submit

AFTER_CHANGES = "2026-07-01T10:00:00+08:00"  # past the modification deadline (06-30 18:00)
CLOSED = "2026-10-20T10:00:00+08:00"  # the final ended 2026-10-19 00:00
MODELS_DUE = "2027-04-17T00:00:00+08:00"  # final_end + 180 days (models_days, predictions_days)
JUST_BEFORE = "2027-04-16T23:59:59+08:00"
TESTSETS_DUE = "2027-10-19T00:00:00+08:00"  # final_end + 365 days
OFFICER = {"who": "compliance"}


@dataclass
class Contest:
    huiyan: Huiyan
    work: Path
    team: str  # Yongjiang: approved, one scored submission
    other: str  # Lijiang: submitted, awaiting review
    submission: str

    @property
    def keys(self) -> Path:
        return self.huiyan.home / "keys"

    def key_file(self, team: str) -> Path:
        return self.keys / "subjects" / f"{team}.key"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Contest:
    work = tmp_path_factory.mktemp("retention")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    team = flows.approved_team(huiyan)
    other = form_team(huiyan, "lijiang")
    huiyan.ok("team", "submit", other, clock=REGISTRATION_TIME)
    huiyan.account("compliance", "compliance_officer")
    huiyan.ok("testset", "add", "--track", "7", "--dir",
              str(make_dataset(7, 4, work / "testset-7", 0)))  # fmt: skip
    submission = submit(huiyan, team, work)
    assert huiyan.ok("dispatcher", "--once").startswith("dispatched")
    assert json.loads(huiyan.ok("submission", "show", submission))["status"] == "scored"
    return Contest(huiyan, work, team, other, submission)


@pytest.fixture
def contest(built, tmp_path) -> Contest:
    """A private copy of the built instance: its home folder and its ledger file."""
    shutil.copytree(built.huiyan.home, tmp_path / "home", symlinks=True)
    for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        if (built.work / name).exists():
            shutil.copy2(built.work / name, tmp_path / name)
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    huiyan.people = copy.deepcopy(built.huiyan.people)
    return Contest(huiyan, tmp_path, built.team, built.other, built.submission)


def refused(result, needle: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert needle in lines[0], lines[0]
    return lines[0]


def ledger_size(huiyan: Huiyan) -> int:
    with sqlite3.connect(huiyan.env["HUIYAN_DATABASE_URL"].removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT count(*) FROM ledger_events").fetchone()[0]


def position_of(huiyan: Huiyan, topic_end: str) -> int:
    with sqlite3.connect(huiyan.env["HUIYAN_DATABASE_URL"].removeprefix("sqlite:///")) as conn:
        rows = conn.execute(
            "SELECT position FROM ledger_events WHERE topic LIKE ? ORDER BY position",
            (f"%{topic_end}",),
        ).fetchall()
    assert rows, topic_end
    return rows[-1][0]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def intact(huiyan: Huiyan, *signed: str) -> None:
    """The ledger verifies, and so does each named decision's personal signature."""
    assert huiyan.ok("ledger", "verify", who=None).startswith("intact")
    for topic in signed:
        verified = huiyan.ok("signatures", "verify", str(position_of(huiyan, topic)), who=None)
        assert ": verified: " in verified, verified


def test_a_shredded_team_opens_nothing_and_every_record_stands(contest, tmp_path):
    huiyan, team = contest.huiyan, contest.team
    roster = json.loads(huiyan.ok("team", "roster", team))
    assert "韦明远" in json.dumps(roster, ensure_ascii=False)
    size, key_file = ledger_size(huiyan), contest.key_file(team)
    key_sha256 = sha256_of(key_file)
    shred = ("retention", "shred", "--team", team)

    # Refused with nothing destroyed or recorded: another role, no reason, a wrong password.
    refused(huiyan(*shred, "--reason", "erasure"), "[account.not_permitted]")
    refused(huiyan(*shred, **OFFICER), "[decision.reason_required]")
    code = huiyan.people["compliance"].code(ROUND_TIME)
    wrong = huiyan(*shred, "--reason", "erasure", "--password-stdin", "--totp", code,
                   stdin="not my password\n", **OFFICER)  # fmt: skip
    refused(wrong, "nothing was signed")
    assert ledger_size(huiyan) == size and key_file.exists()
    assert json.loads(huiyan.ok("team", "roster", team)) == roster

    said = huiyan.ok(*shred, "--reason", "the team asked for erasure", **OFFICER)
    assert said == f"huiyan-2026: team {team}: key shredded (key file {key_sha256})"
    assert not key_file.exists() and ledger_size(huiyan) == size + 2  # Opened, TeamShredded

    # Nothing sealed under the key opens, for the organiser or the team's own leader.
    out = tmp_path / "out.pdf"
    for args, who in (
        (("team", "roster", team), "organiser"),
        (("team", "roster", team), "lead-yongjiang"),
        (("team", "document", team, "identity_proof", "--out", str(out)), "organiser"),
        (("submission", "report", contest.submission, "--out", str(out)), "organiser"),
    ):
        refused(huiyan(*args, who=who), f"the data key of {team} was shredded")
    assert not out.exists()
    assert "Chen Yu" in huiyan.ok("team", "roster", contest.other)  # another team's stays

    # Scores, listings, signatures and proofs all stand.
    shown = json.loads(huiyan.ok("submission", "show", contest.submission))
    assert shown["status"] == "scored" and shown["score"] is not None
    listed = json.loads(huiyan.ok("submission", "list", "--team", team))
    assert [entry["id"] for entry in listed] == [contest.submission]
    intact(huiyan, "Team.Approved", "Retention.TeamShredded")
    decision = huiyan.ok("signatures", "verify", str(position_of(huiyan, "TeamShredded")),
                         who=None)  # fmt: skip
    assert ": verified: shredded by " in decision

    # Again: nothing more recorded; the record says what was destroyed and when.
    again = huiyan.ok(*shred, "--reason", "again", **OFFICER)
    assert again.startswith(f"team {team}: already shredded at 2026-08-03T10:00:00+08:00")
    assert ledger_size(huiyan) == size + 2
    status = json.loads(huiyan.ok("retention", "status", **OFFICER))
    assert status["teams"][team]["key_sha256"] == key_sha256
    assert status["teams"][team]["reason"] == "the team asked for erasure"
    assert status["identity_secret"] is None and status["closed"] is False
    refused(huiyan("retention", "status", who="lead-yongjiang"), "[account.not_permitted]")


def test_a_key_restored_from_a_backup_is_destroyed_again(contest, tmp_path):
    huiyan, team = contest.huiyan, contest.team
    backup = tmp_path / "backup.key"
    shutil.copy2(contest.key_file(team), backup)
    huiyan.ok("retention", "shred", "--team", team, "--reason", "erasure", **OFFICER)
    size = ledger_size(huiyan)
    shutil.copy2(backup, contest.key_file(team))
    # The tombstone wins over a restored file: it still reads as shredded ...
    refused(huiyan("team", "roster", team), "was shredded")
    # ... and shredding again destroys it without a second record.
    huiyan.ok("retention", "shred", "--team", team, "--reason", "erasure", **OFFICER)
    assert not contest.key_file(team).exists() and ledger_size(huiyan) == size


def test_a_tampered_key_file_is_a_clear_error(contest):
    huiyan, other = contest.huiyan, contest.other
    key_file = contest.key_file(other)
    data = bytearray(key_file.read_bytes())
    data[-1] ^= 0x01
    key_file.chmod(0o600)
    key_file.write_bytes(bytes(data))
    line = refused(huiyan("team", "roster", other), f"the key file {other}.key cannot be used")
    assert "does not unwrap under the master key" in line
    # A wrapped key moved over another subject's file does not unwrap there either.
    shutil.copy2(contest.key_file(contest.team), key_file)
    refused(huiyan("team", "roster", other), "does not unwrap under the master key")


def test_the_identity_secret_goes_after_the_last_registration_check(contest):
    huiyan = contest.huiyan
    contest_id = UUID(json.loads(huiyan.ok("contest", "show"))["id"])
    secret = contest.keys / "identity" / f"{contest_id}.key"
    secret_sha256, size = sha256_of(secret), ledger_size(huiyan)
    shred = ("retention", "shred", "--identity-secret")

    line = refused(huiyan(*shred, clock=REGISTRATION_TIME, **OFFICER),
                   "[retention.registration_open]")  # fmt: skip
    assert "2026-06-30 18:00" in line
    refused(huiyan(*shred, clock=AFTER_CHANGES, **OFFICER), "[retention.reviews_pending]")
    refused(huiyan(*shred, clock=AFTER_CHANGES), "[account.not_permitted]")
    assert secret.exists() and ledger_size(huiyan) == size

    huiyan.ok("review", "approve", contest.other, clock=AFTER_CHANGES)
    said = huiyan.ok(*shred, clock=AFTER_CHANGES, **OFFICER)
    assert said == f"huiyan-2026: identity secret shredded ({secret_sha256})"
    assert not secret.exists()
    with pytest.raises(VaultError, match="identity secret of contest .* was shredded"):
        Vault(contest.keys).identity_hash(contest_id, "id_card:450103199901010011")

    # Logins have their own secret: people still sign in, and the teams' keys still open.
    later = "2026-07-02T10:00:00+08:00"
    assert "韦明远" in huiyan.ok("team", "roster", contest.team, clock=later)
    intact(huiyan, "Team.Approved", "Retention.SecretShredded")
    size = ledger_size(huiyan)
    again = huiyan.ok(*shred, clock=later, **OFFICER)
    assert again.startswith("huiyan-2026: identity secret already shredded at 2026-07-01")
    assert ledger_size(huiyan) == size


def test_the_closing_step_destroys_each_store_when_its_period_has_run(contest):
    huiyan = contest.huiyan
    closing = ("retention", "shred", "--all-closed")
    stores = {kind: huiyan.home / kind for kind in ("models", "predictions", "testsets")}
    assert all(len(list(folder.iterdir())) == 1 for folder in stores.values())
    size = ledger_size(huiyan)

    # Before the final ends the contest has not closed: nothing to do, nothing asked.
    early = huiyan.ok(*closing, stdin="", **OFFICER)
    assert early.startswith("huiyan-2026: not closed: The contest closes when its final ends")
    # Closed, but a registration still awaits its review: refused whole, nothing destroyed.
    refused(huiyan(*closing, clock=CLOSED, **OFFICER), "[retention.reviews_pending]")
    assert contest.key_file(contest.team).exists() and contest.key_file(contest.other).exists()
    assert ledger_size(huiyan) == size

    huiyan.ok("review", "approve", contest.other, clock=CLOSED)
    said = huiyan.ok(*closing, clock=CLOSED, **OFFICER).splitlines()
    teams = sorted(line for line in said if ": team " in line)
    assert len(teams) == 2 and all("key shredded (key file " in line for line in teams)
    assert {contest.team, contest.other} == {line.split()[2].rstrip(":") for line in teams}
    assert any(line.startswith("huiyan-2026: identity secret shredded (") for line in said)
    assert said[-3:] == [
        "huiyan-2026: models kept until 2027-04-17T00:00:00+08:00",
        "huiyan-2026: predictions kept until 2027-04-17T00:00:00+08:00",
        "huiyan-2026: testsets kept until 2027-10-19T00:00:00+08:00",
    ]
    assert not contest.key_file(contest.team).exists()
    assert not contest.key_file(contest.other).exists()
    assert all(len(list(folder.iterdir())) == 1 for folder in stores.values())

    size = ledger_size(huiyan)
    quiet = huiyan.ok(*closing, clock=JUST_BEFORE, stdin="", **OFFICER).splitlines()
    assert quiet[0] == "huiyan-2026: nothing more to shred" and ledger_size(huiyan) == size

    said = huiyan.ok(*closing, clock=MODELS_DUE, **OFFICER).splitlines()
    assert said == [
        "huiyan-2026: models: 1 removed, 0 already absent",
        "huiyan-2026: predictions: 1 removed, 0 already absent",
        "huiyan-2026: testsets kept until 2027-10-19T00:00:00+08:00",
    ]
    assert not list(stores["models"].iterdir()) and not list(stores["predictions"].iterdir())
    assert len(list(stores["testsets"].iterdir())) == 1
    size = ledger_size(huiyan)
    again = huiyan.ok(*closing, clock=MODELS_DUE, stdin="", **OFFICER).splitlines()
    assert again[0] == "huiyan-2026: nothing more to shred" and ledger_size(huiyan) == size

    said = huiyan.ok(*closing, clock=TESTSETS_DUE, **OFFICER).splitlines()
    assert said == ["huiyan-2026: testsets: 1 removed, 0 already absent"]
    assert not list(stores["testsets"].iterdir())

    # Scores stay; the record says what went and when; every hash and signature verifies.
    shown = json.loads(huiyan.ok("submission", "show", contest.submission, clock=TESTSETS_DUE))
    assert shown["status"] == "scored" and shown["score"] is not None
    status = json.loads(huiyan.ok("retention", "status", clock=TESTSETS_DUE, **OFFICER))
    assert status["closed"] is True and len(status["teams"]) == 2
    assert {kind: facts["shredded"] for kind, facts in status["stores"].items()} == {
        "models": 1,
        "predictions": 1,
        "testsets": 1,
    }
    intact(huiyan, "Retention.StoreShredded", "Retention.SecretShredded", "Team.Approved")


def test_an_instance_from_before_the_split_keeps_its_one_secret(tmp_path):
    """Logins and identities hashed under one secret (keys/identity-hmac.key): shredding it
    would lock every account out, so it stays; the team keys still go."""
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    keys = huiyan.home / "keys"
    keys.mkdir(parents=True, mode=0o700)
    legacy = keys / "identity-hmac.key"
    legacy.write_bytes(b"\x07" * 32)
    team = flows.approved_team(huiyan)
    huiyan.account("compliance", "compliance_officer")
    assert not (keys / "login-hmac.key").exists() and not (keys / "identity").exists()
    refused(huiyan("retention", "shred", "--identity-secret", clock=CLOSED, **OFFICER),
            "cannot be shredded without locking every account out")  # fmt: skip
    said = huiyan.ok("retention", "shred", "--all-closed", clock=CLOSED, **OFFICER).splitlines()
    assert said[0].startswith(f"huiyan-2026: team {team}: key shredded")
    assert said[1].startswith("huiyan-2026: identity secret kept: this instance hashes logins")
    assert legacy.read_bytes() == b"\x07" * 32
    later = "2026-10-21T10:00:00+08:00"
    assert huiyan.ok("whoami", clock=later)  # the organiser still signs in
    status = json.loads(huiyan.ok("retention", "status", clock=later, **OFFICER))
    assert list(status["teams"]) == [team] and status["identity_secret"] is None
