"""`huiyan team status`: what a team sees (quota left, its submissions and why they failed, the
leaderboard's state) in its own language, and who may look."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from domain.messages import LANGUAGES, MESSAGES
from domain.submissions import FAILURE_REASONS
from domain.submissions import Status as SubmissionStatus
from domain.team_overview import LOG_LINES
from scoring.synth import make_dataset
from tests.flows import (
    REGISTRATION_TIME,
    ROUND_TIME,
    Huiyan,
    approved_team,
    form_team,
    ready_to_submit,
    submit,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
# People of the example teams, as form_team signs them in: a member of Yongjiang who is not
# its leader, and Lijiang's leader.
YONG_MEMBER = "yongjiang-huang"
LI_LEADER = "lead-lijiang"


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    return Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


def status(huiyan: Huiyan, team: str, actor: str, clock: str = ROUND_TIME) -> tuple[str, dict]:
    """The text and the JSON of one team's status, as one actor at one time."""
    text = huiyan.ok("team", "status", team, who=actor, clock=clock)
    facts = json.loads(huiyan.ok("team", "status", team, "--json", who=actor, clock=clock))
    return text, facts


def track(facts: dict, number: int) -> dict:
    (found,) = [entry for entry in facts["tracks"] if entry["track"] == number]
    return found


def said(key: str, language: str, **facts) -> str:
    return MESSAGES[f"overview.{key}"][language].format(**facts)


def left(facts: dict, number: int) -> tuple[int, int]:
    entry = track(facts, number)
    return entry["left_today"], entry["left_total"]


def chatty_crash(tmp_path: Path) -> Path:
    """A model that prints numbered lines, then 'boom', and exits 3."""
    folder = tmp_path / "chatty"
    folder.mkdir()
    (folder / "predict.py").write_text(
        textwrap.dedent(
            """
            import sys
            for number in range(40):
                print(f"line {number}")
            print("boom", flush=True)
            sys.exit(3)
            """
        )
    )
    return folder


def test_overview_messages_have_both_languages_with_the_same_facts():
    keys = [key for key in MESSAGES if key.startswith("overview.")]
    assert len(keys) > 20
    for key in keys:
        texts = MESSAGES[key]
        assert set(texts) == set(LANGUAGES), key
        fields = [set(re.findall(r"{(\w+)}", texts[language])) for language in LANGUAGES]
        assert fields[0] == fields[1], key
        assert texts["zh"] != texts["en"], key
    # Every status and failure reason a run can have is worded in both languages.
    for status in SubmissionStatus:
        assert f"overview.status.{status.value}" in MESSAGES
    for reason in FAILURE_REASONS:
        assert f"overview.reason.{reason}" in MESSAGES


def test_quota_failures_and_logs_as_the_team_sees_them(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)  # Yongjiang (zh): tracks 1 and 7; track 7's set
    member = json.loads(huiyan.ok("whoami", who=YONG_MEMBER))
    assert (member["team"], member["leader"]) == (team, False)  # a member, not the leader
    _, before = status(huiyan, team, YONG_MEMBER)
    assert (left(before, 7), left(before, 1), before["submissions"]) == ((3, 60), (3, 60), [])

    # The debug phase is open, but the set is hidden: the run shows its reason, never its log.
    huiyan.ok("debug-phase", "open")
    model = chatty_crash(tmp_path)
    hidden_run = submit(huiyan, team, tmp_path, model=model)
    huiyan.ok("dispatcher", "--once")
    text, facts = status(huiyan, team, YONG_MEMBER)
    assert (left(facts, 7), left(facts, 1)) == ((2, 59), (3, 60))
    assert track(facts, 7)["used_today"] == track(facts, 7)["used_total"] == 1
    (shown,) = facts["submissions"]
    assert (shown["id"], shown["status"], shown["score"]) == (hidden_run, "failed", None)
    failure = shown["failure"]
    assert (failure["reason"], failure["exit_code"], failure["refunded"]) == ("crashed", 3, False)
    assert failure["log_tail"] is None
    assert "boom" not in text and "line 3" not in text and "boom" not in json.dumps(facts)
    assert said("failure", "zh", reason=said("reason.crashed", "zh")) in text
    assert said("exit_code", "zh", code=3) in text and said("log_hidden", "zh") in text

    # A public debug set: while the phase is open its run shows the last lines of its log.
    public = make_dataset(7, 4, tmp_path / "public-set", 1)
    huiyan.ok("testset", "add", "--track", "7", "--dir", str(public), "--public",
              "--reason", "calibration data for debugging")  # fmt: skip
    later = "2026-08-03T15:00:00+08:00"
    debug_run = submit(huiyan, team, tmp_path, model=model, clock=later)
    huiyan.ok("dispatcher", "--once", clock=later)
    text, facts = status(huiyan, team, YONG_MEMBER, clock=later)
    assert [entry["id"] for entry in facts["submissions"]] == [debug_run, hidden_run]
    tail = facts["submissions"][0]["failure"]["log_tail"]
    assert len(tail) == LOG_LINES and tail[-2:] == ["line 39", "boom"]
    assert "line 0" not in tail and f"line {40 - LOG_LINES + 1}" in tail
    assert facts["submissions"][1]["failure"]["log_tail"] is None
    assert "    boom" in text and said("log_tail", "zh", lines=LOG_LINES) in text
    assert left(facts, 7) == (1, 58)

    # Contest days are Asia/Shanghai days: 23:59:59 there is still the same day...
    _, facts = status(huiyan, team, YONG_MEMBER, clock="2026-08-03T15:59:59+00:00")
    assert (facts["contest_day"], left(facts, 7)) == ("2026-08-03", (1, 58))
    # ... and at 00:30 there (16:30 UTC, still the 3rd in UTC) the daily quota is back.
    _, facts = status(huiyan, team, YONG_MEMBER, clock="2026-08-03T16:30:00+00:00")
    assert (facts["contest_day"], left(facts, 7), left(facts, 1)) == (
        "2026-08-04",
        (3, 58),
        (3, 60),
    )

    # Once the phase is closed, no log is shown any more.
    huiyan.ok("debug-phase", "close", clock=later)
    text, facts = status(huiyan, team, YONG_MEMBER, clock=later)
    assert facts["submissions"][0]["failure"]["log_tail"] is None and "boom" not in text


def test_each_team_reads_its_own_language_and_the_json_holds_the_same_facts(huiyan):
    yongjiang = approved_team(huiyan)  # language: zh
    at = {"clock": REGISTRATION_TIME}
    lijiang = form_team(huiyan, "lijiang")
    huiyan.ok("team", "submit", lijiang, **at)
    huiyan.ok("review", "approve", lijiang, **at)  # language: en

    english, facts = status(huiyan, lijiang, LI_LEADER)
    assert facts["language"] == "en" and facts["leaderboard"] == {"published": False}
    (entry,) = facts["tracks"]
    assert (entry["track"], entry["group"], entry["rank"], entry["combined_score"]) == (
        8, "self_built", None, None)  # fmt: skip
    assert said("quota", "en", **entry) in english  # the text says what the JSON says
    assert "3 left today (of 3 a day), 60 left in total (of 60)" in english
    assert said("track", "en", track=8, track_name="Multi-disease detection on chest X-ray",
                group="Self-built model group") in english  # fmt: skip
    assert said("leaderboard_not_published", "en") in english
    assert said("no_submissions", "en") in english
    # Only the organisation's own name (a fact, not a label) could be Chinese: none here.
    assert not CJK.search(english), english

    chinese, facts = status(huiyan, yongjiang, YONG_MEMBER)
    assert facts["language"] == "zh" and facts["leaderboard"] == {"published": False}
    assert [entry["track"] for entry in facts["tracks"]] == [1, 7]
    for entry in facts["tracks"]:
        assert said("quota", "zh", **entry) in chinese
    assert said("track", "zh", track=7, track_name="基于超声的甲状腺癌智能检测",
                group="自建模型组") in chinese  # fmt: skip
    assert said("leaderboard_not_published", "zh") in chinese
    assert said("leaderboard_not_published", "en") not in chinese
    assert "left today" not in chinese and "Track" not in chinese

    # The organiser sees a team too, in the team's language.
    organiser = huiyan.ok("team", "status", lijiang)
    assert said("leaderboard_not_published", "en") in organiser


def test_only_the_organiser_and_the_teams_own_members_may_look(huiyan):
    yongjiang = approved_team(huiyan)
    lijiang = form_team(huiyan, "lijiang")  # registered, not yet submitted
    huiyan.account("expert", "expert")
    for actor, key in ((LI_LEADER, "[team.not_yours]"), ("expert", "[account.not_permitted]")):
        for json_flag in ((), ("--json",)):
            result = huiyan("team", "status", yongjiang, *json_flag, who=actor)
            assert result.exit_code == 2, result.output
            (line,) = result.output.strip().splitlines()
            assert line.startswith("error: ") and line.endswith(key), line
    assert huiyan("team", "status", lijiang, who=LI_LEADER).exit_code == 0
