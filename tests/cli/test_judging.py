"""The second half of the contest through the CLI, on one SQLite ledger: anonymised review,
publication, appeals and their arbitration, the final round and its certificates.

One scenario (the state builds up, and the sandboxed runs are paid once); each part says what
it proves. The anonymity check collects every answer an expert got on the way and searches it
for every team name, member name, organisation and team id: zero hits."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader

from tests.cli.judging_contest import (
    APPEAL_TIME,
    EXPERTS,
    FINAL_TIME,
    JUDGING_TIME,
    TRACK,
    JudgedContest,
    build,
    prepare,
    report_pdf,
)
from tests.flows import Huiyan

pytestmark = pytest.mark.slow


def refused(result, needle: str) -> str:
    assert result.exit_code == 2, result.output
    assert needle in result.output, result.output
    return result.output


@pytest.fixture
def contest(tmp_path) -> JudgedContest:
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    return build(huiyan, tmp_path)


def expert_answers(contest: JudgedContest, login: str, seen: list[bytes]) -> list[dict]:
    """Every answer the expert can get: their tasks in JSON, each sanitised report's bytes and
    text; all kept in ``seen`` for the anonymity search."""
    answer = contest.ok("judging", "tasks", who=login, clock=JUDGING_TIME)
    seen.append(answer.encode())
    tasks = json.loads(answer)
    for task in tasks:
        out = contest.work / f"{login}-{task['pseudonym']}.pdf"
        contest.ok("judging", "report", task["pseudonym"], "--out", str(out), who=login,
                   clock=JUDGING_TIME)  # fmt: skip
        data = out.read_bytes()
        seen.append(data)
        seen.append("".join(page.extract_text() for page in PdfReader(out).pages).encode())
    return tasks


def hits(secrets: list[str], seen: list[bytes]) -> list[str]:
    found = []
    for secret in secrets:
        forms = {secret.encode(), secret.encode("utf-16-be"), secret.lower().encode()}
        found += [secret for blob in seen for form in forms if form and form in blob.lower()]
    return found


def test_the_second_half_of_the_contest(contest: JudgedContest):
    ok, huiyan = contest.ok, contest.huiyan
    signed = contest.signed
    teams, submissions = contest.teams, contest.submissions

    # --- review cannot start before the round ends; then entries are admitted ---------------
    refused(huiyan("judging", "prepare", "--track", TRACK), "[judging.round_not_over]")
    entries = {line["team"]: line for line in prepare(contest)}
    assert len(entries) == 3
    assert {e["pseudonym"][:3] for e in entries.values()} == {"T7-"}
    assert len({e["pseudonym"] for e in entries.values()}) == 3
    held = entries["北部湾智影"]
    assert held["report"] == "held" and held["experts"] == 0
    assert {hit["kind"] for hit in held["hits"]} == {"member name"}
    assert any("莫一帆" in hit["text"] for hit in held["hits"])
    for name in ("邕江慧影", "Lijiang Vision"):
        assert entries[name]["report"] == "clean" and entries[name]["experts"] == 3

    # the held team sends a clean report; preparing again assigns it
    refused(huiyan("judging", "replace-report", submissions["lijiang"], "--report",
                   str(contest.work / "yongjiang.pdf"), who="lead-lijiang", clock=JUDGING_TIME),
            "[review.report_not_held]")  # fmt: skip
    clean = report_pdf(contest.work / "beibu-clean.pdf", author="", body="A U-Net.")
    ok("judging", "replace-report", submissions["beibu"], "--report", str(clean),
       who="lead-beibu", clock=JUDGING_TIME)  # fmt: skip
    entries = {line["team"]: line for line in prepare(contest)}
    assert all(e["report"] == "clean" and e["experts"] == 3 for e in entries.values())

    # --- experts: never one with a conflict; every answer anonymous -------------------------
    seen: list[bytes] = []
    given: dict[str, list[str]] = {}
    for login in EXPERTS:
        given[login] = [task["pseudonym"] for task in expert_answers(contest, login, seen)]
    lijiang = entries["Lijiang Vision"]["pseudonym"]
    assert lijiang not in given["expert-d"]  # expert-d shares lijiang's organisation
    assert sorted(len(tasks) for tasks in given.values()) == [2, 2, 2, 3]  # spread evenly
    assert hits(contest.secrets, seen) == []
    # an expert may not read or grade what they were not given, nor see the leaderboard
    idle = next(login for login, tasks in given.items() if len(tasks) < 3)
    other = next(p for p in (e["pseudonym"] for e in entries.values()) if p not in given[idle])
    refused(huiyan("judging", "report", other, "--out", str(contest.work / "x.pdf"),
                   who=idle, clock=JUDGING_TIME), "[review.not_assigned]")  # fmt: skip
    refused(huiyan("results", "leaderboard", "--track", TRACK, who="expert-a",
                   clock=JUDGING_TIME), "[account.not_permitted]")  # fmt: skip

    # --- grades, signed; without a signature nothing is recorded ------------------------------
    grades = {"邕江慧影": 5, "Lijiang Vision": 3, "北部湾智影": 4}
    for login, pseudonyms in given.items():
        for pseudonym in pseudonyms:
            team = next(n for n, e in entries.items() if e["pseudonym"] == pseudonym)
            args = ["judging", "score", pseudonym]
            for dimension in ("innovation", "reliability", "technical_soundness", "uniqueness"):
                args += ["--grade", f"{dimension}={grades[team]}"]
            unsigned = huiyan.raw(*args, "--password-stdin", stdin="wrong password\n",
                                  clock=JUDGING_TIME, session=login)  # fmt: skip
            assert unsigned.exit_code == 2, unsigned.output
            ok(*args, who=login, clock=JUDGING_TIME)
    progress = json.loads(ok("judging", "progress", "--track", TRACK, clock=JUDGING_TIME))
    assert all(line["complete"] for line in progress)

    # --- results: standings, publication, leaderboard, a team's own view, the export ---------
    standings = json.loads(ok("results", "standings", "--track", TRACK, clock=JUDGING_TIME))
    assert [line["team"] for line in standings][0] == "邕江慧影"
    top = standings[0]
    expected = 0.6 * top["quality"] + 0.1 * top["efficiency"] + 0.3 * top["expert"]
    assert top["composite"] == pytest.approx(expected) and top["expert"] == pytest.approx(1.0)
    assert signed("results", "publish", "--track", TRACK, "--mode", "full", "--freeze-at",
              JUDGING_TIME, clock=JUDGING_TIME) == "1"  # fmt: skip
    board = json.loads(ok("results", "leaderboard", "--track", TRACK, who="lead-lijiang",
                          clock=JUDGING_TIME))  # fmt: skip
    assert [line["team"] for line in board["lines"]] == [line["team"] for line in standings]
    mine = json.loads(ok("results", "mine", "--track", TRACK, who="lead-lijiang",
                         clock=JUDGING_TIME))  # fmt: skip
    assert mine["score"]["primary"]["name"] == "mean_macro_f1_auroc" and mine["expert"] == 0.6
    exported = contest.work / "results.json"
    ok("results", "export", "--track", TRACK, "--format", "json", "--out", str(exported),
       clock=JUDGING_TIME)  # fmt: skip
    rows = json.loads(exported.read_text())
    assert all(row["rules_version"] == 1 and row["scorer_version"] for row in rows)
    ok("ledger", "checkpoint", clock=JUDGING_TIME)
    for row in rows:
        assert len(row["scores"]) == 1 + 3  # the computed score and the three sheets
        for used in row["scores"]:
            position, leaf = used.split(":")
            proof = json.loads(ok("ledger", "proof", position, "--json", clock=JUDGING_TIME))
            assert proof["leaf_hash"] == leaf
    as_csv = contest.work / "results.csv"
    ok("results", "export", "--track", TRACK, "--format", "csv", "--out", str(as_csv),
       clock=JUDGING_TIME)  # fmt: skip
    assert [r["team"] for r in csv.DictReader(io.StringIO(as_csv.read_text()))] == [
        row["team"] for row in rows
    ]

    # --- appeals ------------------------------------------------------------------------------
    reasons = contest.work / "reasons.txt"
    reasons.write_text("The expert score ignores our external validation.\n")
    file = ("appeal", "file", "--track", TRACK, "--reasons", str(reasons))
    refused(huiyan(*file, "--item", "nonsense", who="lead-lijiang", clock=APPEAL_TIME),
            "[appeal.item]")  # fmt: skip
    appeal_l = signed("appeal", "file", "--track", TRACK, "--item", "expert", "--reasons",
                  str(reasons), who="lead-lijiang", clock=APPEAL_TIME).split()  # fmt: skip
    assert appeal_l[1] == "drawn"
    refused(huiyan(*file, "--item", "expert", who="lead-lijiang", clock=APPEAL_TIME),
            "[appeal.exists]")  # fmt: skip
    appeal_y = ok("appeal", "file", "--track", TRACK, "--item", "quality", "--reasons",
                  str(reasons), who="lead-yongjiang", clock=APPEAL_TIME).split()[0]  # fmt: skip
    appeal_b = ok("appeal", "file", "--track", TRACK, "--item", "efficiency", "--reasons",
                  str(reasons), who="lead-beibu", clock=APPEAL_TIME).split()[0]  # fmt: skip
    refused(huiyan("appeal", "file", "--track", TRACK, "--item", "gates", "--reasons",
                   str(reasons), who="lead-beibu", clock="2026-10-08T10:00:00+08:00"),
            "[appeal.window_closed]")  # fmt: skip
    shown_y = json.loads(ok("appeal", "show", appeal_y, clock=APPEAL_TIME))
    arbiter_y = shown_y["arbitrators"]
    assert len(arbiter_y) == 1
    # arbiter-y declared a tie to yongjiang's organisation: never drawn for yongjiang
    assert arbiter_y[0] == account_of(huiyan, "arbiter-x")

    # the arbitrator replays the matter: every event with its signatures, all valid
    events = json.loads(ok("appeal", "replay", appeal_y, who="arbiter-x", clock=APPEAL_TIME))
    kinds = [e["event"] for e in events]
    assert "Submission.ScoreComputed" in kinds and "Appeal.Filed" in kinds
    assert all(e["ledger_signature"] == "valid" for e in events)
    decisions = [e for e in events if not e["personal_signature"].startswith("none")]
    assert decisions and all(e["personal_signature"].startswith("valid") for e in decisions)
    refused(huiyan("appeal", "replay", appeal_y, who="arbiter-y", clock=APPEAL_TIME),
            "[appeal.not_yours]")  # fmt: skip
    rescored = json.loads(ok("appeal", "rescore", appeal_y, who="arbiter-x", clock=APPEAL_TIME))
    assert rescored["same_bytes"] is True and rescored["differences"] == {}

    # upheld with a re-score (same rules: same figures, the new score supersedes the old one)
    signed("appeal", "rule", appeal_y, "--outcome", "upheld", "--remedy", "rescore",
       "--rules-version", "1", "--reasons", str(reasons), who="arbiter-x",
       clock=APPEAL_TIME)  # fmt: skip
    ok("appeal", "remedy", appeal_y, clock=APPEAL_TIME)
    shown = json.loads(ok("submission", "show", submissions["yongjiang"], clock=APPEAL_TIME))
    assert shown["status"] == "scored"

    # upheld with a corrected expert score: the leaderboard follows, history keeps the old
    arbiter_l = json.loads(ok("appeal", "show", appeal_l[0], clock=APPEAL_TIME))["arbitrators"][0]
    login_l = "arbiter-x" if arbiter_l == account_of(huiyan, "arbiter-x") else "arbiter-y"
    signed("appeal", "rule", appeal_l[0], "--outcome", "upheld", "--remedy", "correct", "--value",
       "0.95", "--reasons", str(reasons), who=login_l, clock=APPEAL_TIME)  # fmt: skip
    after = json.loads(ok("results", "standings", "--track", TRACK, clock=APPEAL_TIME))
    line_l = next(line for line in after if line["team"] == "Lijiang Vision")
    assert line_l["expert"] == 0.95 and line_l["corrected"] == ["expert"]
    before_l = next(line for line in standings if line["team"] == "Lijiang Vision")
    assert line_l["composite"] > before_l["composite"]
    mine = json.loads(ok("results", "mine", "--track", TRACK, who="lead-lijiang",
                         clock=APPEAL_TIME))  # fmt: skip
    assert mine["expert"] == 0.95

    # dismissed
    arbiter_b = json.loads(ok("appeal", "show", appeal_b, clock=APPEAL_TIME))["arbitrators"][0]
    login_b = "arbiter-x" if arbiter_b == account_of(huiyan, "arbiter-x") else "arbiter-y"
    assert signed("appeal", "rule", appeal_b, "--outcome", "dismissed", "--reasons", str(reasons),
              who=login_b, clock=APPEAL_TIME) == "dismissed"  # fmt: skip
    listed = json.loads(ok("appeal", "list", who="lead-beibu", clock=APPEAL_TIME))
    assert [a["status"] for a in listed] == ["dismissed"]

    # --- the final round ----------------------------------------------------------------------
    finalists = json.loads(signed("final", "advance", "--track", TRACK, clock=FINAL_TIME))
    assert len(finalists) == 3
    names = ("performance_and_efficiency", "innovation_and_robustness",
             "clinical_value_and_interpretability", "engineering_and_wide_use")  # fmt: skip
    marks = {"邕江慧影": 90, "Lijiang Vision": 80, "北部湾智影": 70}
    for finalist in finalists:
        for login in ("expert-a", "expert-b"):
            signed("final", "score", "--track", TRACK, "--team", str(finalist["team_id"]),
               *[f"--score={n}={marks[finalist['team']]}" for n in names], who=login,
               clock=FINAL_TIME)  # fmt: skip
    awarded = json.loads(signed("final", "award", "--track", TRACK, clock=FINAL_TIME))
    assert [(a["team"], a["award"]) for a in awarded] == [
        ("邕江慧影", "first_prize"),
        ("Lijiang Vision", "second_prize"),
        ("北部湾智影", "third_prize"),
    ]
    certificate = contest.work / "certificate.pdf"
    ok("final", "certificate", "--track", TRACK, "--team", teams["yongjiang"], "--out",
       str(certificate), who="lead-yongjiang", clock=FINAL_TIME)  # fmt: skip
    checked = huiyan("certificate", "verify", str(certificate), clock=FINAL_TIME)
    assert checked.exit_code == 0, checked.output
    text = "".join(page.extract_text() for page in PdfReader(certificate).pages)
    assert "邕江慧影" in text

    # --- the audit tools: a matter's timeline, time travel, re-scoring by position ----------
    at = {"clock": FINAL_TIME}
    lines = json.loads(ok("audit", "timeline", "--team", teams["lijiang"], **at))
    assert all(line["ledger_signature"] == "valid" for line in lines)
    assert {"appealed", "scored", "ruled"} <= {line["meaning"] for line in lines}
    assert all(line["personal_signature"] == "valid" for line in lines if line["meaning"])
    theirs = json.loads(ok("audit", "timeline", "--team", teams["lijiang"], who="lead-lijiang",
                           **at))  # fmt: skip
    graders = {line["actor"] for line in theirs if line["meaning"] == "scored"}
    assert len(graders) == 3 and all(actor.startswith("person-") for actor in graders)
    refused(huiyan("audit", "timeline", "--team", teams["yongjiang"], who="lead-lijiang", **at),
            "[team.not_yours]")  # fmt: skip
    corrected = next(line for line in lines if line["event"] == "Submission.ScoreCorrected")
    state = {}
    for name, position in (("before", corrected["position"] - 1), ("at", corrected["position"])):
        shown = json.loads(ok("audit", "state", "--as-of", str(position), "--submission",
                              submissions["lijiang"], **at))  # fmt: skip
        state[name] = shown["aggregates"][submissions["lijiang"]]
    assert state["before"]["corrections"] == {}
    assert state["at"]["corrections"]["expert"]["value"] == 0.95
    by_time = json.loads(ok("audit", "state", "--as-of", JUDGING_TIME, "--submission",
                            submissions["lijiang"], **at))  # fmt: skip
    assert by_time["aggregates"][submissions["lijiang"]]["corrections"] == {}
    past = {}
    for name, position in (("before", corrected["position"] - 1), ("at", corrected["position"])):
        board = json.loads(ok("audit", "leaderboard", "--track", TRACK, "--as-of", str(position),
                              **at))  # fmt: skip
        past[name] = {line["team"]: line for line in board["standings"]}
    assert past["before"]["Lijiang Vision"]["expert"] == pytest.approx(0.6)
    assert past["at"]["Lijiang Vision"]["expert"] == 0.95
    assert past["before"] == {line["team"]: {k: line[k] for k in past["before"][line["team"]]}
                              for line in standings}  # fmt: skip
    computed = next(line for line in lines if line["event"] == "Submission.ScoreComputed")
    again = json.loads(ok("audit", "rescore", str(computed["position"]), **at))
    assert again["same_bytes"] is True and again["scorer_changed"] is False, again

    # every signature of the whole run checks out, and the ledger is intact
    verify = json.loads(ok("ledger", "verify", "--json", clock=FINAL_TIME))
    assert verify["intact"], verify


def account_of(huiyan: Huiyan, login: str) -> str:
    listed = json.loads(huiyan.ok("whoami", who=login, clock=APPEAL_TIME))
    return listed["account"]
