"""Who may run what: every read command (and the decisions) with every role, as one table.

``ok`` means the command ran; anything else is the refusal it must print. A new read command
belongs in this table: deny by default, and a row says who is let in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.flows import Huiyan, approved_team, form_team

ROLES = ("anonymous", "leader", "member", "other_leader", "organiser", "expert", "arbitrator",
         "compliance", "auditor")  # fmt: skip
NOT_SIGNED_IN = "not signed in"
ROLE = "[account.not_permitted]"
NOT_YOURS = "[team.not_yours]"
# The people behind the roles: the team's leader and a member, and another team's leader.
LOGINS = {"leader": "lead-yongjiang", "member": "yongjiang-huang", "other_leader": "lead-lijiang"}


@dataclass
class World:
    huiyan: Huiyan
    team: str
    work: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    work = tmp_path_factory.mktemp("matrix")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    team = approved_team(huiyan)
    form_team(huiyan, "lijiang")
    huiyan.account("expert", "expert")
    huiyan.account("arbitrator", "arbitrator")
    huiyan.account("compliance", "compliance_officer")
    huiyan.account("auditor", "audit_administrator")
    return World(huiyan, team, work)


def anyone() -> dict[str, str]:
    return dict.fromkeys(ROLES, "ok")


def only(allowed: tuple[str, ...]) -> dict[str, str]:
    """Refusals for everyone else: not signed in, not your team, or not your role."""
    outcome = {}
    for role in ROLES:
        if role in allowed:
            outcome[role] = "ok"
        elif role == "anonymous":
            outcome[role] = NOT_SIGNED_IN
        elif role == "other_leader":
            outcome[role] = NOT_YOURS if "leader" in allowed else ROLE
        else:
            outcome[role] = ROLE
    return outcome


def export(world: World, *options: str) -> list[str]:
    return ["audit", "export", "--team", world.team, *options, "--out", str(world.work / "b.zip")]


TEAM_READERS = ("leader", "member", "organiser")
RETENTION_READERS = ("organiser", "compliance", "auditor")
# (command, its arguments given the world, who gets what)
MATRIX = [
    ("contest show", lambda w: ["contest", "show"], anyone()),
    ("rules list", lambda w: ["rules", "list"], anyone()),
    ("team show", lambda w: ["team", "show", w.team, "--json"], only(TEAM_READERS)),
    ("team list", lambda w: ["team", "list", "--json"], only(("organiser",))),
    ("team roster", lambda w: ["team", "roster", w.team], only(TEAM_READERS)),
    (
        "team document",
        lambda w: ["team", "document", w.team, "identity_proof", "--out", str(w.work / "out.pdf")],
        only(TEAM_READERS),
    ),  # fmt: skip
    ("submission list", lambda w: ["submission", "list", "--team", w.team], only(TEAM_READERS)),
    ("team status", lambda w: ["team", "status", w.team, "--json"], only(TEAM_READERS)),
    ("access-log", lambda w: ["access-log"], only(("auditor",))),
    ("retention status", lambda w: ["retention", "status"], only(RETENTION_READERS)),
    # an arbitrator exports only an appeal they were drawn for (tests/audit/test_bundle.py)
    ("audit export", lambda w: export(w), only(("organiser", "compliance", "auditor"))),
    (
        "audit export with documents",
        lambda w: export(w, "--with-documents"),
        only(("organiser", "compliance")),
    ),
]


@pytest.mark.parametrize(
    ("command", "arguments", "role", "expected"),
    [
        pytest.param(command, arguments, role, expected[role], id=f"{command}-{role}")
        for command, arguments, expected in MATRIX
        for role in ROLES
    ],
)
def test_read_matrix(world, command, arguments, role, expected):
    who = None if role == "anonymous" else LOGINS.get(role, role)
    result = world.huiyan(*arguments(world), who=who)
    if expected == "ok":
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2 and expected in result.output, result.output


@pytest.mark.parametrize("role", [role for role in ROLES if role != "organiser"])
def test_only_the_organiser_decides_a_registration(world, role):
    who = None if role == "anonymous" else LOGINS.get(role, role)
    result = world.huiyan("review", "reject", world.team, "--reason", "x", "--password-stdin",
                          stdin="whatever password\n", who=who)  # fmt: skip
    expected = NOT_SIGNED_IN if role == "anonymous" else ROLE
    assert result.exit_code == 2 and expected in result.output, result.output


@pytest.mark.parametrize("role", [role for role in ROLES if role != "compliance"])
def test_only_the_compliance_officer_shreds(world, role):
    who = None if role == "anonymous" else LOGINS.get(role, role)
    result = world.huiyan("retention", "shred", "--team", world.team, "--reason", "x",
                          "--password-stdin", stdin="whatever password\n", who=who)  # fmt: skip
    expected = NOT_SIGNED_IN if role == "anonymous" else ROLE
    assert result.exit_code == 2 and expected in result.output, result.output
    assert (world.huiyan.home / "keys" / "subjects" / f"{world.team}.key").exists()
