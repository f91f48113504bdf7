"""Experts: enrolment, the confidentiality agreement, conflict-of-interest declarations and
who may review which team (domain/experts.py), on the in-memory store."""

from __future__ import annotations

import pytest
from helpers import (
    EARLY,
    ORGANISER,
    PASSWORD,
    form_team,
    member,
    own_account,
    signing_organiser,
)

from domain.accounts import Actor, Role
from domain.errors import (
    AgreementNotCurrent,
    AgreementNotPublished,
    ExpertAlreadyEnrolled,
    ExpertNotEnrolled,
    ExpertNotYours,
    ExpertProfileIncomplete,
    NotAnExpert,
    NotPermitted,
    SignatureInvalid,
    SignatureRequired,
)
from domain.experts import conflict
from domain.registration import Registration
from domain.signatures import Manifest, Signer
from services.personal_keys import new_signing_key, sign

AGREEMENT = "a" * 64
AGREEMENT_2 = "b" * 64


def signing_expert(app: Registration, login: str = "hmac-expert") -> tuple[Actor, Signer]:
    """An expert's account opened by the organiser; the expert set their own password,
    which gave them a key pair of their own."""
    account_id = app.open_account(login_key=login, role=Role.EXPERT, credential="c" * 64,
                                  actor=ORGANISER, now=EARLY, person="d" * 64,
                                  public_key=new_signing_key(PASSWORD)[0].hex())  # fmt: skip
    actor = app.account(account_id).actor
    public_key, sealed = new_signing_key(PASSWORD)
    app.take_own_key(credential="e" * 64, public_key=public_key.hex(), actor=actor, now=EARLY)

    def signer(manifest: Manifest) -> str:
        return sign(sealed, PASSWORD, manifest.payload()).hex()

    return actor, signer


@pytest.fixture
def organiser(app) -> tuple[Actor, Signer]:
    return signing_organiser(app)


@pytest.fixture
def contest_id(app, organiser):
    from helpers import new_contest

    return new_contest(app)


def enrolled(app, contest_id, login="hmac-expert", organisations=("邕江医院",)):
    actor, signer = signing_expert(app, login)
    app.enrol_expert(contest_id, actor.account_id, fields=["超声"],
                     organisations=list(organisations), actor=ORGANISER, now=EARLY)  # fmt: skip
    return actor, signer


def publish(app, contest_id, organiser, sha256=AGREEMENT) -> int:
    return app.publish_agreement(contest_id, sha256=sha256, blob="f" * 64, actor=organiser[0],
                                 now=EARLY, signer=organiser[1])  # fmt: skip


def ready(app, contest_id, organiser, *, organisations=(), people=(), login="hmac-expert"):
    """An enrolled expert who signed the agreement in force and declared these ties."""
    if app.agreement(contest_id).current_sha256 is None:
        publish(app, contest_id, organiser)
    actor, signer = enrolled(app, contest_id, login)
    app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT, actor=actor, now=EARLY,
                       signer=signer)  # fmt: skip
    app.declare_ties(actor.account_id, organisations=list(organisations),
                     identity_keys=list(people), actor=actor, now=EARLY, signer=signer)  # fmt: skip
    return actor, signer


def test_a_ready_expert_may_review_an_unrelated_team(app, contest_id, organiser):
    team = form_team(app, contest_id, "wei", "lu", organisation="广西示例大学")
    actor, _ = ready(app, contest_id, organiser)
    assert app.expert_conflict(actor.account_id, team) is None
    expert = app.expert(actor.account_id)
    assert expert.may_review(app.team(team), agreement_sha256=AGREEMENT)


@pytest.mark.parametrize(
    "spelling",
    ["广西示例大学", "  广西示例 大学 ", "广西示例大学（南宁）", "Guangxi Example University"],
)
def test_a_declared_organisation_excludes_the_team_in_any_spelling(app, contest_id, organiser,
                                                                  spelling):  # fmt: skip
    ours = "广西示例大学(南宁)" if "南宁" in spelling else spelling.strip()
    if spelling.startswith("Guangxi"):
        ours, spelling = "ＧＵＡＮＧＸＩ  example UNIVERSITY", spelling
    team = form_team(app, contest_id, "wei", "lu", organisation=ours)
    actor, _ = ready(app, contest_id, organiser, organisations=[spelling])
    reason = app.expert_conflict(actor.account_id, team)
    assert reason is not None and "declared a tie to the organisation" in reason


def test_a_shared_organisation_excludes_the_team_after_normalisation(app, contest_id, organiser):
    team = form_team(app, contest_id, "wei", "lu", organisation="Ｙｏｎｇｊｉａｎｇ Hospital")
    publish(app, contest_id, organiser)
    actor, signer = enrolled(app, contest_id, organisations=["yongjiang  HOSPITAL"])
    app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT, actor=actor, now=EARLY,
                       signer=signer)  # fmt: skip
    app.declare_ties(actor.account_id, organisations=[], identity_keys=[], actor=actor, now=EARLY,
                     signer=signer)  # fmt: skip
    assert app.expert_conflict(actor.account_id, team).startswith("shares the organisation")


def test_a_declared_person_excludes_their_team(app, contest_id, organiser):
    team = form_team(app, contest_id, "wei", member("lu", organisation="别的单位"))
    other = form_team(app, contest_id, "zhao", "qian", name="other")
    # The identity key is the keyed hash of the normalised document: a declared person
    # matches a member whatever way the number was written (tests/cli covers the spelling).
    actor, _ = ready(app, contest_id, organiser, people=["hmac-lu"])
    assert app.expert_conflict(actor.account_id, team) == "declared a tie to a member of the team"
    assert app.expert_conflict(actor.account_id, other) is None


def test_without_agreement_or_declaration_the_expert_is_not_eligible(app, contest_id, organiser):
    team = form_team(app, contest_id, "wei", "lu")
    actor, signer = enrolled(app, contest_id)
    assert "no confidentiality agreement" in app.expert_conflict(actor.account_id, team)
    with pytest.raises(AgreementNotPublished):
        app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT, actor=actor, now=EARLY,
                           signer=signer)  # fmt: skip
    publish(app, contest_id, organiser)
    assert "has not signed" in app.expert_conflict(actor.account_id, team)
    app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT, actor=actor, now=EARLY,
                       signer=signer)  # fmt: skip
    assert "has not declared" in app.expert_conflict(actor.account_id, team)


def test_a_new_agreement_version_must_be_signed_again(app, contest_id, organiser):
    team = form_team(app, contest_id, "wei", "lu")
    actor, signer = ready(app, contest_id, organiser)
    assert app.expert_conflict(actor.account_id, team) is None
    assert publish(app, contest_id, organiser, AGREEMENT_2) == 2
    assert "has not signed" in app.expert_conflict(actor.account_id, team)
    with pytest.raises(AgreementNotCurrent):
        app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT, actor=actor, now=EARLY,
                           signer=signer)  # fmt: skip
    assert app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT_2, actor=actor,
                              now=EARLY, signer=signer) == 2  # fmt: skip
    assert app.expert_conflict(actor.account_id, team) is None


def test_a_new_declaration_supersedes_the_previous_one_and_history_stays(app, contest_id,
                                                                        organiser):  # fmt: skip
    team = form_team(app, contest_id, "wei", "lu", organisation="广西示例大学")
    actor, signer = ready(app, contest_id, organiser, organisations=["广西示例大学"])
    assert app.expert_conflict(actor.account_id, team) is not None
    assert app.declare_ties(actor.account_id, organisations=["别处"], identity_keys=[], actor=actor,
                            now=EARLY, signer=signer) == 2  # fmt: skip
    assert app.expert_conflict(actor.account_id, team) is None
    expert = app.expert(actor.account_id)
    assert [d["organisations"] for d in expert.declarations] == [["广西示例大学"], ["别处"]]


def test_every_act_without_a_valid_personal_signature_is_refused(app, contest_id, organiser):
    actor, signer = enrolled(app, contest_id)
    with pytest.raises(SignatureRequired):
        app.publish_agreement(contest_id, sha256=AGREEMENT, blob="f" * 64, actor=organiser[0],
                              now=EARLY)  # fmt: skip
    publish(app, contest_id, organiser)
    forged = signing_expert(app, "hmac-someone-else")[1]
    for bad in (None, forged):
        with pytest.raises((SignatureRequired, SignatureInvalid)):
            app.sign_agreement(actor.account_id, agreement_sha256=AGREEMENT, actor=actor,
                               now=EARLY, signer=bad)  # fmt: skip
        with pytest.raises((SignatureRequired, SignatureInvalid)):
            app.declare_ties(actor.account_id, organisations=[], identity_keys=[], actor=actor,
                             now=EARLY, signer=bad)  # fmt: skip
    expert = app.expert(actor.account_id)
    assert expert.agreements == [] and expert.declarations == []


def test_an_expert_acts_for_themselves_only(app, contest_id, organiser):
    publish(app, contest_id, organiser)
    first, _ = enrolled(app, contest_id, "hmac-expert-1")
    second, signer = enrolled(app, contest_id, "hmac-expert-2")
    with pytest.raises(ExpertNotYours):
        app.declare_ties(first.account_id, organisations=[], identity_keys=[], actor=second,
                         now=EARLY, signer=signer)  # fmt: skip
    with pytest.raises(ExpertNotYours):
        app.sign_agreement(first.account_id, agreement_sha256=AGREEMENT, actor=second,
                           now=EARLY, signer=signer)  # fmt: skip
    with pytest.raises(NotPermitted):
        app.declare_ties(first.account_id, organisations=[], identity_keys=[], actor=ORGANISER,
                         now=EARLY, signer=organiser[1])  # fmt: skip


def test_enrolment_is_the_organisers_for_an_experts_account_once(app, contest_id, organiser):
    actor, signer = signing_expert(app)
    team_member = own_account(app, "somebody")
    enrol = dict(fields=["CT"], organisations=["某医院"], now=EARLY)
    with pytest.raises(NotPermitted):
        app.enrol_expert(contest_id, actor.account_id, actor=actor, **enrol)
    with pytest.raises(NotAnExpert):
        app.enrol_expert(contest_id, team_member.account_id, actor=ORGANISER, **enrol)
    with pytest.raises(ExpertProfileIncomplete):
        app.enrol_expert(contest_id, actor.account_id, fields=[" "], organisations=["某医院"],
                         actor=ORGANISER, now=EARLY)  # fmt: skip
    with pytest.raises(ExpertNotEnrolled):
        app.declare_ties(actor.account_id, organisations=[], identity_keys=[], actor=actor,
                         now=EARLY, signer=signer)  # fmt: skip
    app.enrol_expert(contest_id, actor.account_id, actor=ORGANISER, **enrol)
    with pytest.raises(ExpertAlreadyEnrolled):
        app.enrol_expert(contest_id, actor.account_id, actor=ORGANISER, **enrol)


def test_conflict_replays_from_the_events(app, contest_id, organiser):
    """The rule reads only recorded facts: a copy rebuilt from the events decides alike."""
    team = form_team(app, contest_id, "wei", "lu", organisation="广西示例大学")
    actor, _ = ready(app, contest_id, organiser, organisations=["广西示例大学"])
    replayed = app.repository.get(app.expert(actor.account_id).id)
    assert conflict(replayed, app.team(team), agreement_sha256=AGREEMENT) is not None
