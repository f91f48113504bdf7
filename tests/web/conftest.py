"""Fixtures of the web application's tests: a registered contest with a person in every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from tests.flows import REGISTRATION_TIME, Huiyan, approved_team
from tests.web.site import site

# The login of one person in each role of the registered contest.
LOGINS = {
    "team_member": "lead-yongjiang",
    "organiser": "organiser",
    "expert": "expert-a",
    "arbitrator": "arbiter-x",
    "compliance_officer": "compliance",
    "audit_administrator": "auditor",
}


@dataclass
class Registered:
    huiyan: Huiyan
    team: str  # the approved team's id
    app: Flask


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registered]:
    """The 2026 contest with its rules, one approved team, and one account in every role, on
    SQLite; the application at registration time."""
    work = tmp_path_factory.mktemp("site")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    team = approved_team(huiyan)
    for role, login in LOGINS.items():
        if login not in huiyan.people:
            huiyan.account(login, role, "--name", f"Person {login}")
    yield Registered(huiyan, team, site(huiyan, REGISTRATION_TIME))
