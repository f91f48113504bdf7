"""Experts through the CLI (``huiyan expert ...``): the organiser enrols and publishes the
confidentiality agreement; each expert signs it and declares their ties, under their personal
signature; the declarations verify offline and decide who may review which team."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest

from domain.accounts import Account
from domain.registration import Registration
from ledger.application import open_application
from ledger.settings import Settings
from ledger.vault import Vault
from tests.cli.test_people import position_of, rows
from tests.flows import REGISTRATION_TIME, Huiyan, approved_team

AT = {"clock": REGISTRATION_TIME}
# The yongjiang leader's resident ID (docs/examples/team-yongjiang.yaml), in another spelling:
# full-width digits and spaces.
LEADER_ID_SPELT_OTHERWISE = "４５０１０３ １９９９０１０１ ００１１"


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    return Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


@pytest.fixture
def team(huiyan) -> str:
    return approved_team(huiyan)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def desk(huiyan: Huiyan) -> tuple[Registration, Settings]:
    settings = Settings.from_env({**huiyan.env})
    return open_application(Registration, settings), settings


def account_id(huiyan: Huiyan, login: str) -> UUID:
    settings = Settings.from_env({**huiyan.env})
    return Account.create_id(Vault(settings.keys_dir).keyed_hash(login))


def ready_expert(huiyan: Huiyan, tmp_path: Path, login: str = "expert-1", ties: str = "{}\n",
                 organisation: str = "桂林示例研究所"):  # fmt: skip
    """An expert enrolled, the agreement published (once) and signed, these ties declared."""
    huiyan.account(login, "expert")
    huiyan.ok("expert", "enrol", login, "--field", "超声", "--organisation", organisation, **AT)
    agreement = tmp_path / "agreement.md"
    if not agreement.exists():
        huiyan.ok("expert", "agreement", "--file", write(agreement, "# 保密协议\n不外传。\n"), **AT)
    huiyan.ok("expert", "sign-agreement", who=login, **AT)
    huiyan.ok("expert", "declare", "--file", write(tmp_path / f"{login}.yaml", ties), who=login,
              **AT)  # fmt: skip


def test_a_declared_person_in_another_spelling_excludes_the_team(huiyan, team, tmp_path):
    ties = f'people:\n  - identity: {{type: id_card, number: "{LEADER_ID_SPELT_OTHERWISE}"}}\n'
    ready_expert(huiyan, tmp_path, "expert-1", ties)
    ready_expert(huiyan, tmp_path, "expert-2", "organisations: [别的单位]\npeople: []\n")
    app, _ = desk(huiyan)
    assert app.expert_conflict(account_id(huiyan, "expert-1"), UUID(team)) == (
        "declared a tie to a member of the team"
    )
    assert app.expert_conflict(account_id(huiyan, "expert-2"), UUID(team)) is None
    # Neither the number nor any spelling of it is in the ledger: only its keyed hash.
    text = json.dumps(rows(huiyan, "SELECT * FROM ledger_events"), default=str)
    assert "450103199901010011" not in text and "４５０１０３" not in text


def test_a_declared_organisation_in_another_spelling_excludes_the_team(huiyan, team, tmp_path):
    ready_expert(huiyan, tmp_path, ties="organisations: ['  广西示例 大学 ']\n")
    app, _ = desk(huiyan)
    reason = app.expert_conflict(account_id(huiyan, "expert-1"), UUID(team))
    assert reason is not None and "declared a tie to the organisation" in reason
    shown = json.loads(huiyan.ok("expert", "show", "expert-1", **AT))
    assert shown["declaration"]["organisations"] == ["广西示例 大学"]
    assert shown["fields"] == ["超声"] and shown["ineligible"] is None


def test_an_expert_of_a_members_organisation_never_reviews_the_team(huiyan, team, tmp_path):
    # A member of the yongjiang team works at 南宁示例医院; the expert's spelling differs.
    ready_expert(huiyan, tmp_path, organisation="南宁示例 医院")
    app, _ = desk(huiyan)
    reason = app.expert_conflict(account_id(huiyan, "expert-1"), UUID(team))
    assert reason == "shares the organisation 南宁示例 医院"


def test_declarations_verify_and_the_ledger_is_intact(huiyan, team, tmp_path):
    ready_expert(huiyan, tmp_path, ties="organisations: [某公司]\n")
    for topic, meaning in (("Expert.Declared", "declared"), ("Expert.AgreementSigned",
                           "declared"), ("Agreement.Published", "published")):  # fmt: skip
        said = huiyan.ok("signatures", "verify", str(position_of(huiyan, topic)), who=None)
        assert f"verified: {meaning} by" in said
    assert huiyan.ok("ledger", "verify", who=None).startswith("intact")


def test_a_new_agreement_version_must_be_signed_again(huiyan, team, tmp_path):
    ready_expert(huiyan, tmp_path)
    shown = json.loads(huiyan.ok("expert", "show", "expert-1", **AT))
    assert shown["ineligible"] is None
    second = write(tmp_path / "agreement-2.md", "# 保密协议（修订）\n")
    assert huiyan.ok("expert", "agreement", "--file", second, **AT).startswith("2 ")
    shown = json.loads(huiyan.ok("expert", "show", "expert-1", **AT))
    assert shown["ineligible"] == "has not signed the current confidentiality agreement"
    stale = huiyan("expert", "sign-agreement", "--sha256", shown["agreements"][0]["sha256"],
                   who="expert-1", **AT)  # fmt: skip
    assert stale.exit_code == 2 and "[expert.agreement_not_current]" in stale.output
    huiyan.ok("expert", "sign-agreement", who="expert-1", **AT)
    assert json.loads(huiyan.ok("expert", "show", "expert-1", **AT))["ineligible"] is None


def test_refusals(huiyan, team, tmp_path):
    huiyan.account("expert-1", "expert")
    ties = write(tmp_path / "ties.yaml", "organisations: [某公司]\n")
    before = huiyan("expert", "declare", "--file", ties, who="expert-1", **AT)
    assert before.exit_code == 2 and "[expert.not_enrolled]" in before.output
    by_expert = huiyan("expert", "enrol", "expert-1", "--field", "CT", "--organisation", "某院",
                       who="expert-1", **AT)  # fmt: skip
    assert by_expert.exit_code == 2 and "[account.not_permitted]" in by_expert.output
    leader = huiyan("expert", "enrol", "lead-yongjiang", "--field", "CT", "--organisation", "某院",
                    **AT)  # fmt: skip
    assert leader.exit_code == 2 and "[expert.not_expert]" in leader.output
    huiyan.ok("expert", "enrol", "expert-1", "--field", "CT", "--organisation", "某院", **AT)
    for_them = huiyan("expert", "declare", "--file", ties, **AT)  # the organiser
    assert for_them.exit_code == 2 and "[account.not_permitted]" in for_them.output
    shown = huiyan("expert", "show", "expert-1", who="expert-1", **AT)
    assert shown.exit_code == 2 and "[account.not_permitted]" in shown.output
    hidden = write(tmp_path / "hidden.yaml", "organisations: ['某\u200b公司']\nnames: [x]\n")
    bad = huiyan("expert", "declare", "--file", hidden, who="expert-1", **AT)
    assert bad.exit_code == 2 and "organisations[1]" in bad.output and "names" in bad.output


def test_a_wrong_password_declares_nothing(huiyan, team, tmp_path):
    ready_expert(huiyan, tmp_path)
    ties = write(tmp_path / "again.yaml", "organisations: [某公司]\n")
    wrong = huiyan("expert", "declare", "--file", ties, "--password-stdin", who="expert-1",
                   stdin="not my password\n", **AT)  # fmt: skip
    assert wrong.exit_code == 2
    shown = json.loads(huiyan.ok("expert", "show", "expert-1", **AT))
    assert shown["declaration"]["number"] == 1 and shown["declaration"]["organisations"] == []
