"""Each registration rule: accepted just inside its limit, refused just outside."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic
from helpers import (
    EARLY,
    MODIFICATION_DEADLINE,
    ORGANISER,
    REGISTRATION_DEADLINE,
    SECOND,
    member,
    named_team,
    ready_team,
    roster,
    signing_organiser,
)

from domain import errors
from domain.accounts import Actor, Role
from domain.signatures import check
from domain.teams import Status


def register(app, contest_id, members, *, now=EARLY, language="zh"):
    return app.register_team(
        contest_id,
        team_id=uuid4(),
        name="team " + "-".join(m.identity_key for m in members),
        language=language,
        members=members,
        actor=ORGANISER,
        now=now,
    )


@pytest.mark.parametrize("size", [2, 5])
def test_team_of_two_to_five_is_accepted(app, contest_id, size):
    team_id = register(app, contest_id, roster(*[f"p{i}" for i in range(size)]))
    assert len(app.team(team_id).members) == size


@pytest.mark.parametrize("size", [1, 6])
def test_team_of_one_or_six_is_refused(app, contest_id, size):
    with pytest.raises(errors.TeamSizeOutOfRange) as refused:
        register(app, contest_id, roster(*[f"p{i}" for i in range(size)]))
    assert refused.value.facts["size"] == size
    assert app.teams(contest_id) == []


def test_a_team_has_exactly_one_leader(app, contest_id):
    with pytest.raises(errors.LeaderCount):
        register(app, contest_id, [member("a", leader=True), member("b", leader=True)])
    with pytest.raises(errors.LeaderCount):
        register(app, contest_id, [member("a"), member("b")])


def test_the_same_person_twice_in_one_team_is_refused(app, contest_id):
    with pytest.raises(errors.MemberTwice) as refused:
        register(app, contest_id, [member("a", leader=True), member("a")])
    assert refused.value.facts["position"] == 2


def test_second_team_for_the_same_person_is_refused_and_leaves_nothing(app, contest_id):
    register(app, contest_id, roster("a", "b"))
    with pytest.raises(errors.PersonInAnotherTeam) as refused:
        register(app, contest_id, roster("c", "b"))
    assert refused.value.facts["position"] == 2
    assert len(app.teams(contest_id)) == 1
    # the third person was not claimed by the refused team: a new team may take them
    register(app, contest_id, roster("c", "d"))


def test_one_organisation_may_field_several_teams(app, contest_id):
    register(app, contest_id, roster("a", "b", organisation="广西示例大学"))
    register(app, contest_id, roster("c", "d", organisation="广西示例大学"))
    assert len(app.teams(contest_id)) == 2


def test_registration_a_second_before_and_after_the_deadline(app, contest_id):
    register(app, contest_id, roster("a", "b"), now=REGISTRATION_DEADLINE - SECOND)
    with pytest.raises(errors.RegistrationClosed):
        register(app, contest_id, roster("c", "d"), now=REGISTRATION_DEADLINE)
    with pytest.raises(errors.RegistrationClosed):
        register(app, contest_id, roster("c", "d"), now=REGISTRATION_DEADLINE + SECOND)


def test_language_is_locked_once_chosen(app, contest_id):
    team_id = register(app, contest_id, roster("a", "b"), language=None)
    app.choose_language(team_id, "en", actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.LanguageLocked) as refused:
        app.choose_language(team_id, "zh", actor=ORGANISER, now=EARLY)
    assert refused.value.facts["language"] == "en"
    with pytest.raises(errors.LanguageUnknown):
        register(app, contest_id, roster("c", "d"), language="fr")


def test_one_group_per_track(app, contest_id):
    team_id = register(app, contest_id, roster("a", "b"))
    app.enter_track(team_id, 1, "self_owned", actor=ORGANISER, now=EARLY)
    app.enter_track(team_id, 7, "self_built", actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.TrackAlreadyEntered) as refused:
        app.enter_track(team_id, 1, "self_built", actor=ORGANISER, now=EARLY)
    assert refused.value.facts == {"track": 1, "group": "self_owned"}
    with pytest.raises(errors.TrackUnknown):
        app.enter_track(team_id, 9, "self_owned", actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.GroupUnknown):
        app.enter_track(team_id, 1, "bring_your_own", actor=ORGANISER, now=EARLY)
    assert app.team(team_id).tracks == {1: "self_owned", 7: "self_built"}


def test_track_entry_closes_with_registration(app, contest_id):
    team_id = register(app, contest_id, roster("a", "b"))
    app.enter_track(team_id, 1, "self_owned", actor=ORGANISER, now=REGISTRATION_DEADLINE - SECOND)
    with pytest.raises(errors.RegistrationClosed):
        app.enter_track(team_id, 7, "self_owned", actor=ORGANISER, now=REGISTRATION_DEADLINE)


def test_submission_needs_language_track_and_identity_proof(app, contest_id):
    team_id = register(app, contest_id, roster("a", "b"), language=None)
    with pytest.raises(errors.LanguageMissing):
        app.submit(team_id, actor=ORGANISER, now=EARLY)
    app.choose_language(team_id, "zh", actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.NoTrackEntered):
        app.submit(team_id, actor=ORGANISER, now=EARLY)
    app.enter_track(team_id, 1, "self_owned", actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.DocumentMissing):
        app.submit(team_id, actor=ORGANISER, now=EARLY)


def test_rejected_team_resubmits_before_the_registration_deadline_only(app, contest_id):
    organiser, signer = signing_organiser(app)
    team_id = ready_team(app, contest_id, "a", "b")
    app.submit(team_id, actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.ReasonRequired):
        app.reject(team_id, reason="  ", actor=organiser, now=EARLY, signer=signer)
    app.reject(team_id, reason="blurred scan", actor=organiser, now=EARLY, signer=signer)
    with pytest.raises(errors.RegistrationClosed):
        app.submit(team_id, actor=ORGANISER, now=REGISTRATION_DEADLINE)
    app.submit(team_id, actor=ORGANISER, now=REGISTRATION_DEADLINE - SECOND)
    app.approve(team_id, actor=organiser, now=REGISTRATION_DEADLINE, signer=signer)
    team = app.team(team_id)
    assert team.status is Status.APPROVED
    assert [d["decision"] for d in team.decisions] == ["rejected", "approved"]
    assert team.decisions[0]["reason"] == "blurred scan"
    assert team.decisions[0]["by"] == ORGANISER.account_id


def test_withdraw_change_members_resubmit_until_the_modification_deadline(app, contest_id):
    organiser, signer = signing_organiser(app)
    team_id = ready_team(app, contest_id, "a", "b")
    app.submit(team_id, actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.StatusForbids):
        app.change_members(team_id, roster("a", "c"), actor=ORGANISER, now=EARLY)
    app.approve(team_id, actor=organiser, now=EARLY, signer=signer)
    late = MODIFICATION_DEADLINE - SECOND
    app.withdraw(team_id, actor=ORGANISER, now=late)
    app.change_members(team_id, roster("a", "c"), actor=ORGANISER, now=late)
    app.submit(team_id, actor=ORGANISER, now=late)
    assert app.team(team_id).status is Status.SUBMITTED
    with pytest.raises(errors.ModificationClosed):
        app.withdraw(team_id, actor=ORGANISER, now=MODIFICATION_DEADLINE)


def test_members_who_leave_are_free_and_those_who_join_are_taken(app, contest_id):
    first = ready_team(app, contest_id, "a", "b")
    app.change_members(first, roster("a", "c"), actor=ORGANISER, now=EARLY)
    register(app, contest_id, roster("b", "d"))
    with pytest.raises(errors.PersonInAnotherTeam):
        register(app, contest_id, roster("c", "e"))


def test_member_changes_close_at_the_modification_deadline(app, contest_id):
    team_id = ready_team(app, contest_id, "a", "b")
    app.change_members(
        team_id, roster("a", "c"), actor=ORGANISER, now=MODIFICATION_DEADLINE - SECOND
    )
    with pytest.raises(errors.ModificationClosed):
        app.change_members(team_id, roster("a", "d"), actor=ORGANISER, now=MODIFICATION_DEADLINE)


def test_review_older_than_five_days_is_overdue(app, contest_id):
    from datetime import timedelta

    team_id = ready_team(app, contest_id, "a", "b")
    app.submit(team_id, actor=ORGANISER, now=EARLY)
    team = app.team(team_id)
    assert not team.review_overdue(EARLY + timedelta(days=5))
    assert team.review_overdue(EARLY + timedelta(days=5) + SECOND)
    organiser, signer = signing_organiser(app)
    app.approve(team_id, actor=organiser, now=EARLY + timedelta(days=6), signer=signer)
    assert not app.team(team_id).review_overdue(EARLY + timedelta(days=7))


def test_letters_only_after_the_call_and_before_the_round(app, contest_id):
    from helpers import PRELIMINARY_START

    team_id = ready_team(app, contest_id, "a", "b")
    upload = dict(ciphertext="cd" * 32, size=10, pages=1, actor=ORGANISER)
    with pytest.raises(errors.DocumentsNotCalled):
        app.attach_document(team_id, "commitment_letter", **upload, now=EARLY)
    with pytest.raises(errors.DocumentKindUnknown):
        app.attach_document(team_id, "photo", **upload, now=EARLY)
    app.call_for_documents(contest_id, actor=ORGANISER, now=EARLY)
    app.attach_document(team_id, "commitment_letter", **upload, now=PRELIMINARY_START - SECOND)
    with pytest.raises(errors.RoundStarted):
        app.attach_document(team_id, "ip_compliance_statement", **upload, now=PRELIMINARY_START)
    assert set(app.team(team_id).documents) == {"identity_proof", "commitment_letter"}


def test_only_organisers_review_and_only_the_leader_acts_for_a_team(app, contest_id):
    team_id = ready_team(app, contest_id, "a", "b")
    expert = Actor(account_id=uuid4(), role=Role.EXPERT)
    other_leader = Actor(uuid4(), Role.TEAM_MEMBER, team_id=uuid4(), leader=True)
    leader = Actor(uuid4(), Role.TEAM_MEMBER, team_id=team_id, leader=True)
    with pytest.raises(errors.TeamNotYours):
        app.submit(team_id, actor=other_leader, now=EARLY)
    app.submit(team_id, actor=leader, now=EARLY)
    with pytest.raises(errors.NotPermitted):
        app.approve(team_id, actor=expert, now=EARLY)
    with pytest.raises(errors.NotPermitted):
        app.approve(team_id, actor=leader, now=EARLY)


def test_a_review_decision_carries_its_makers_signature_or_is_not_recorded(app, contest_id):
    team_id = ready_team(app, contest_id, "a", "b")
    app.submit(team_id, actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.SignatureRequired):
        app.approve(team_id, actor=ORGANISER, now=EARLY)
    organiser, signer = signing_organiser(app)
    _, colleagues = signing_organiser(app, login_key="hmac-colleague", by=organiser)
    with pytest.raises(errors.SignatureInvalid):  # signed with another person's key
        app.approve(team_id, actor=organiser, now=EARLY, signer=colleagues)
    stranger = Actor(uuid4(), Role.ORGANISER)  # no account in the ledger: no key to check
    with pytest.raises(errors.AccountNotFound):
        app.approve(team_id, actor=stranger, now=EARLY, signer=signer)
    assert app.team(team_id).status is Status.SUBMITTED and not app.team(team_id).decisions
    app.approve(team_id, actor=organiser, now=EARLY, reason="complete", signer=signer)
    approved = list(app.events.get(team_id))[-1]
    manifest = check(
        approved.personal_signature,
        topic=get_topic(type(approved)),
        originator_id=team_id,
        originator_version=approved.originator_version,
        state=approved.__dict__,
        public_key=app.account(organiser.account_id).public_key,
    )
    assert (manifest.meaning, manifest.signer) == ("approved", str(organiser.account_id))
    assert manifest.fields["reason"] == "complete"


@pytest.mark.parametrize(
    "twin", ["ＬＩＪＩＡＮＧ　ｖｉｓｉｏｎ", "lijiang vision", " Lijiang  Vision ", "LijiangVision"]
)
def test_a_team_name_equal_after_normalisation_is_refused_and_leaves_nothing(app, contest_id, twin):
    named_team(app, contest_id, "Lijiang Vision", "a", "b")
    with pytest.raises(errors.TeamNameTaken) as refused:
        named_team(app, contest_id, twin, "c", "d")
    assert refused.value.facts["name"] == twin.strip()
    assert [team.name for team in app.teams(contest_id)] == ["Lijiang Vision"]
    named_team(app, contest_id, "Lijiang Vision 2", "c", "d")  # c and d were not claimed


def test_the_same_name_in_another_contest_is_fine(app, contest_id):
    from helpers import new_contest

    named_team(app, contest_id, "邕江慧影", "a", "b")
    named_team(app, new_contest(app, slug="huiyan-2027"), "邕江 慧影", "c", "d")


@pytest.mark.parametrize(
    ("name", "character"),
    [
        ("Fresh\u200bEyes", "U+200B ZERO WIDTH SPACE"),
        ("\u202eseyE hserF", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Fresh\tEyes", "U+0009"),
        ("Fresh\u2066Eyes", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ],
)
def test_a_team_name_with_a_hidden_character_is_refused(app, contest_id, name, character):
    with pytest.raises(errors.TeamNameInvalid) as refused:
        named_team(app, contest_id, name, "a", "b")
    assert refused.value.facts["character"] == character
    assert app.teams(contest_id) == []


@pytest.mark.parametrize("name", ["", "   ", "\u3000\u3000", "\u00a0"])
def test_a_team_name_blank_after_normalisation_is_missing(app, contest_id, name):
    with pytest.raises(errors.TeamNameMissing):
        named_team(app, contest_id, name, "a", "b")


def test_an_organisation_with_a_hidden_character_is_refused(app, contest_id):
    members = [member("a", leader=True, organisation="南宁示例\u200b科技有限公司"), member("b")]
    with pytest.raises(errors.OrganisationInvalid) as refused:
        register(app, contest_id, members)
    assert refused.value.facts == {"position": 1, "character": "U+200B ZERO WIDTH SPACE"}
    with pytest.raises(errors.OrganisationMissing):
        register(app, contest_id, [member("a", leader=True, organisation="\u3000"), member("b")])


def test_a_member_of_another_team_is_refused_for_the_team_not_the_role():
    """A leader acting on a team that is not theirs is told so (issue 9, point 15)."""
    from uuid import uuid4

    from domain.accounts import Actor, Role
    from domain.errors import NotPermitted, TeamNotYours

    mine, theirs = uuid4(), uuid4()
    leader = Actor(account_id=uuid4(), role=Role.TEAM_MEMBER, team_id=mine, leader=True)
    with pytest.raises(TeamNotYours):
        leader.require_for_team(theirs, action="submit the team")
    member = Actor(account_id=uuid4(), role=Role.TEAM_MEMBER, team_id=mine, leader=False)
    with pytest.raises(NotPermitted):
        member.require_for_team(mine, action="submit the team")
    leader.require_for_team(mine, action="submit the team")


def test_an_organisation_code_in_other_digits_is_refused_not_a_crash():
    from domain.errors import OrganisationCodeInvalid
    from domain.organisations import normalise_code

    with pytest.raises(OrganisationCodeInvalid):
        normalise_code("\u0669\u0661" + "0" * 16)
