"""Teams form themselves: a person opens their own account, registers a team and leads it,
invites by e-mail, and nobody is in a team without having accepted [四]."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.flows import (
    EXAMPLES,
    REGISTRATION_TIME,
    Huiyan,
    form_team,
)

MEMBERS = EXAMPLES / "members"


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    huiyan.account("organiser", "organiser")
    huiyan.ok("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml"),
              clock=REGISTRATION_TIME)  # fmt: skip
    return huiyan


def run(huiyan: Huiyan, *args: str, who: str | None):
    return huiyan(*args, who=who, clock=REGISTRATION_TIME)


def ok(huiyan: Huiyan, *args: str, who: str | None) -> str:
    return huiyan.ok(*args, who=who, clock=REGISTRATION_TIME)


def ledger_bytes(huiyan: Huiyan) -> bytes:
    path = huiyan.env["HUIYAN_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return b"".join(bytes(row[0]) for row in conn.execute("SELECT state FROM ledger_events"))


def test_a_person_registers_a_team_and_leads_it(huiyan):
    huiyan.own_account("lead-yongjiang")
    before = json.loads(ok(huiyan, "whoami", who="lead-yongjiang"))
    assert before["role"] == "team_member" and before["team"] is None
    team = ok(huiyan, "team", "register", "--file", str(EXAMPLES / "team-yongjiang.yaml"),
              who="lead-yongjiang")  # fmt: skip
    after = json.loads(ok(huiyan, "whoami", who="lead-yongjiang"))
    assert after["team"] == team and after["leader"] is True
    shown = json.loads(ok(huiyan, "team", "show", team, "--json", who="lead-yongjiang"))
    # the invited are not members until they accept
    assert len(shown["members"]) == 1 and shown["members"][0]["leader"]
    refused = run(huiyan, "team", "submit", team, who="lead-yongjiang")
    assert refused.exit_code == 2 and "[team.size]" in refused.output


def test_nobody_is_in_a_team_without_accepting(huiyan):
    team = form_team(huiyan, "yongjiang")
    shown = json.loads(ok(huiyan, "team", "show", team, "--json", who="organiser"))
    assert len(shown["members"]) == 3
    roster = json.loads(ok(huiyan, "team", "roster", team, who="organiser"))
    assert sorted(person["name"] for person in roster) == ["陆思源", "韦明远", "黄晓岚"]
    member = json.loads(ok(huiyan, "whoami", who="yongjiang-huang"))
    assert member["team"] == team and member["leader"] is False


def test_an_invitation_carries_no_address_or_token_into_the_ledger(huiyan):
    form_team(huiyan, "lijiang")
    message = next((huiyan.home / "outbox").glob("*.txt")).read_text()
    token = message.split("token: ", 1)[1].split()[0]
    history = ledger_bytes(huiyan)
    assert b"anna@institute.example" not in history and token.encode() not in history
    assert (huiyan.home / "outbox").stat().st_mode & 0o077 == 0


def test_an_invitation_is_used_once(huiyan):
    form_team(huiyan, "lijiang")
    token = huiyan.token_for("anna@institute.example")
    huiyan.own_account("someone-else")
    again = run(huiyan, "team", "accept", "--token", token, "--file",
                str(MEMBERS / "lijiang-berg.yaml"), who="someone-else")  # fmt: skip
    assert again.exit_code == 2 and "[team.invitation_not_found]" in again.output
    made_up = run(huiyan, "team", "accept", "--token", "made-up", "--file",
                  str(MEMBERS / "lijiang-berg.yaml"), who="someone-else")  # fmt: skip
    assert made_up.exit_code == 2 and "[team.invitation_not_found]" in made_up.output


def test_an_invitation_expires_after_seven_days(huiyan):
    huiyan.own_account("lead-lijiang")
    ok(huiyan, "team", "register", "--file", str(EXAMPLES / "team-lijiang.yaml"),
       who="lead-lijiang")  # fmt: skip
    huiyan.own_account("anna", clock="2026-06-20T10:00:00+08:00")
    late = huiyan("team", "accept", "--token", huiyan.token_for("anna@institute.example"),
                  "--file", str(MEMBERS / "lijiang-berg.yaml"), who="anna",
                  clock="2026-06-27T10:00:01+08:00")  # fmt: skip
    assert late.exit_code == 2 and "[team.invitation_not_found]" in late.output


def test_one_account_one_team_and_one_person_one_team(huiyan):
    yongjiang = form_team(huiyan, "yongjiang")
    huiyan.own_account("lead-lijiang")
    ok(huiyan, "team", "register", "--file", str(EXAMPLES / "team-lijiang.yaml"),
       who="lead-lijiang")  # fmt: skip
    token = huiyan.token_for("anna@institute.example")
    # a member of another team cannot accept
    in_team = run(huiyan, "team", "accept", "--token", token, "--file",
                  str(MEMBERS / "lijiang-berg.yaml"), who="yongjiang-huang")  # fmt: skip
    assert in_team.exit_code == 2 and "[account.in_team]" in in_team.output
    # and a new account cannot bring a person who is already in another team
    huiyan.own_account("twin")
    twin = run(huiyan, "team", "accept", "--token", token, "--file",
               str(MEMBERS / "yongjiang-huang.yaml"), who="twin")  # fmt: skip
    assert twin.exit_code == 2 and "[team.person_taken]" in twin.output
    # once removed by the leader, the person is free to accept
    account = json.loads(ok(huiyan, "whoami", who="yongjiang-huang"))["account"]
    ok(huiyan, "team", "remove", yongjiang, "--account", account, who="lead-yongjiang")
    ok(huiyan, "team", "accept", "--token", token, "--file",
       str(MEMBERS / "yongjiang-huang.yaml"), who="twin")  # fmt: skip


def test_who_may_invite_and_open_accounts(huiyan):
    yongjiang = form_team(huiyan, "yongjiang")
    form_team(huiyan, "lijiang")
    other = run(huiyan, "team", "invite", yongjiang, "--email", "x@example.org",
                who="lead-lijiang")  # fmt: skip
    assert other.exit_code == 2 and "[team.not_yours]" in other.output
    member = run(huiyan, "team", "invite", yongjiang, "--email", "x@example.org",
                 who="yongjiang-huang")  # fmt: skip
    assert member.exit_code == 2 and "[account.not_permitted]" in member.output
    organiser = run(huiyan, "team", "invite", yongjiang, "--email", "x@example.org",
                    who="organiser")  # fmt: skip
    assert organiser.exit_code == 2 and "[account.not_permitted]" in organiser.output
    not_an_address = run(huiyan, "team", "invite", yongjiang, "--email", "x at example",
                         who="lead-yongjiang")  # fmt: skip
    assert not_an_address.exit_code == 2 and "email" in not_an_address.output
    made = run(huiyan, "account", "create", "--login", "m", "--role", "team_member",
               "--password-stdin", who="organiser")  # fmt: skip
    assert made.exit_code == 2 and "team_member" in made.output
    # a team's sixth person is refused at the invitation
    for number in range(2):
        ok(huiyan, "team", "invite", yongjiang, "--email", f"p{number}@example.org",
           who="lead-yongjiang")  # fmt: skip
    sixth = run(huiyan, "team", "invite", yongjiang, "--email", "p9@example.org",
                who="lead-yongjiang")  # fmt: skip
    assert sixth.exit_code == 2 and "[team.size]" in sixth.output
