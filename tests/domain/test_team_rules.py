"""Each registration rule: accepted just inside its limit, refused just outside. Teams form
themselves: the leader registers alone, invites, and each person accepts with their own
account; the roster's size is checked at submission and at each invitation."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic
from helpers import (
    EARLY,
    MODIFICATION_DEADLINE,
    ORGANISER,
    REGISTRATION_DEADLINE,
    SECOND,
    accept,
    account_of,
    actor_of,
    form_team,
    invite,
    join,
    lead,
    leader_of,
    member,
    named_team,
    own_account,
    ready_team,
    signing_organiser,
)

from domain import errors
from domain.accounts import Actor, Role
from domain.signatures import check
from domain.teams import Status, check_roster


def people(size: int) -> list[str]:
    return [f"p{i}" for i in range(size)]


def keys(app, team_id) -> list[str]:
    return [m["identity_key"] for m in app.team(team_id).members]


# --- size and leader -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 5])
def test_a_team_of_two_to_five_is_submitted(app, contest_id, size):
    team_id = ready_team(app, contest_id, *people(size))
    app.submit(team_id, actor=leader_of(app, team_id), now=EARLY)
    assert len(app.team(team_id).members) == size
    assert app.team(team_id).status is Status.SUBMITTED


def test_a_leader_alone_registers_but_is_refused_at_submission(app, contest_id):
    team_id = ready_team(app, contest_id, "a")
    leader = leader_of(app, team_id)
    with pytest.raises(errors.TeamSizeOutOfRange) as refused:
        app.submit(team_id, actor=leader, now=EARLY)
    assert refused.value.facts["size"] == 1
    assert app.team(team_id).status is Status.DRAFT
    join(app, team_id, leader, "b")
    app.submit(team_id, actor=leader, now=EARLY)


def test_a_sixth_person_is_not_invited(app, contest_id):
    team_id = form_team(app, contest_id, *people(5))
    with pytest.raises(errors.TeamSizeOutOfRange) as refused:
        invite(app, team_id, leader_of(app, team_id))
    assert refused.value.facts["size"] == 6
    assert app.team(team_id).invitations == {}


def test_open_invitations_count_towards_the_five(app, contest_id):
    team_id, leader = lead(app, contest_id, "a")
    tokens = [invite(app, team_id, leader) for _ in range(4)]
    with pytest.raises(errors.TeamSizeOutOfRange) as refused:
        invite(app, team_id, leader)
    assert refused.value.facts["size"] == 6
    accept(app, tokens[0], "b")
    with pytest.raises(errors.TeamSizeOutOfRange):
        invite(app, team_id, leader)
    assert len(app.team(team_id).members) == 2 and len(app.team(team_id).invitations) == 3


def test_expired_invitations_free_their_places(app, contest_id):
    """Four invitations that lapsed do not keep the leader from inviting again."""
    team_id, leader = lead(app, contest_id, "a")
    for _ in range(4):
        invite(app, team_id, leader)
    with pytest.raises(errors.TeamSizeOutOfRange):
        invite(app, team_id, leader, now=EARLY + timedelta(days=7) - timedelta(seconds=1))
    token = invite(app, team_id, leader, now=EARLY + timedelta(days=7))
    accept(app, token, "b", now=EARLY + timedelta(days=7))
    assert len(app.team(team_id).members) == 2


@pytest.mark.parametrize("size", [1, 6])
def test_a_full_roster_of_one_or_six_is_refused(size):
    roster = [member(person, leader=index == 0) for index, person in enumerate(people(size))]
    with pytest.raises(errors.TeamSizeOutOfRange) as refused:
        check_roster(roster)
    assert refused.value.facts["size"] == size


def test_a_roster_has_exactly_one_leader():
    with pytest.raises(errors.LeaderCount):
        check_roster([member("a", leader=True), member("b", leader=True)])
    with pytest.raises(errors.LeaderCount):
        check_roster([member("a"), member("b")])


def test_the_one_who_registers_leads_and_those_who_accept_do_not(app, contest_id):
    team_id, leader = lead(app, contest_id, member("a", leader=False))
    joined = accept(app, invite(app, team_id, leader), member("b", leader=True))
    team = app.team(team_id)
    assert [m["leader"] for m in team.members] == [True, False]
    assert (leader.team_id, leader.leader) == (team_id, True)
    assert (joined.team_id, joined.leader) == (team_id, False)
    with pytest.raises(errors.NotPermitted):
        invite(app, team_id, joined)


# --- who forms a team --------------------------------------------------------------------------


def test_an_organiser_neither_registers_a_team_nor_composes_one(app, contest_id):
    with pytest.raises(errors.NotPermitted):
        app.register_team(
            contest_id,
            team_id=uuid4(),
            name="organised",
            language="zh",
            leader=member("a"),
            actor=ORGANISER,
            now=EARLY,
        )
    assert app.teams(contest_id) == []
    team_id = form_team(app, contest_id, "a", "b")
    with pytest.raises(errors.NotPermitted):
        invite(app, team_id, ORGANISER)
    token = invite(app, team_id, leader_of(app, team_id))
    with pytest.raises(errors.NotPermitted):
        app.accept(token_hash=token, member=member("c"), actor=ORGANISER, now=EARLY)
    with pytest.raises(errors.NotPermitted):
        app.remove_member(
            team_id, account_of(app, team_id, "b").account_id, actor=ORGANISER, now=EARLY
        )
    assert keys(app, team_id) == ["hmac-a", "hmac-b"]


def test_only_the_teams_own_leader_invites(app, contest_id):
    team_id = form_team(app, contest_id, "a", "b")
    other = form_team(app, contest_id, "c", "d")
    with pytest.raises(errors.TeamNotYours):
        invite(app, team_id, leader_of(app, other))
    with pytest.raises(errors.NotPermitted):  # a member of the team who does not lead it
        invite(app, team_id, account_of(app, team_id, "b"))
    with pytest.raises(errors.TeamNotYours):  # someone in no team at all
        invite(app, team_id, own_account(app, "e"))
    assert app.team(team_id).invitations == {}


def test_nobody_is_in_a_team_without_accepting(app, contest_id):
    team_id, leader = lead(app, contest_id, "a")
    tokens = [invite(app, team_id, leader) for _ in range(3)]
    invited = own_account(app, "b")
    assert [m["account_id"] for m in app.team(team_id).members] == [leader.account_id]
    assert app.account(invited.account_id).team_id is None
    b = accept(app, tokens[0], "b", actor=invited)
    c = accept(app, tokens[1], "c")
    team = app.team(team_id)
    assert [m["account_id"] for m in team.members] == [
        leader.account_id,
        b.account_id,
        c.account_id,
    ]
    assert keys(app, team_id) == ["hmac-a", "hmac-b", "hmac-c"]
    assert list(team.invitations) == [tokens[2]]  # invited, not a member
    assert (b.team_id, c.team_id) == (team_id, team_id)
    events = [type(event).__name__ for event in app.events.get(team_id)]
    assert events == ["Registered", *["MemberInvited"] * 3, *["MemberJoined"] * 2]


def test_an_invitation_is_used_once_and_expires_after_seven_days(app, contest_id):
    team_id, leader = lead(app, contest_id, "a")
    token = invite(app, team_id, leader)
    accept(app, token, "b")
    with pytest.raises(errors.InvitationNotFound):
        accept(app, token, "c")  # used
    with pytest.raises(errors.InvitationNotFound):
        accept(app, "token-never-sent", "c")
    week = timedelta(days=7)
    expired = invite(app, team_id, leader)
    with pytest.raises(errors.InvitationNotFound):
        accept(app, expired, "c", now=EARLY + week)
    accept(app, invite(app, team_id, leader), "c", now=EARLY + week - SECOND)
    assert keys(app, team_id) == ["hmac-a", "hmac-b", "hmac-c"]


def test_an_account_in_a_team_neither_accepts_nor_registers_another(app, contest_id):
    first = form_team(app, contest_id, "a", "b")
    b = account_of(app, first, "b")
    second, leader = lead(app, contest_id, "c")
    token = invite(app, second, leader)
    with pytest.raises(errors.AlreadyInTeam) as refused:
        accept(app, token, "b", actor=b)
    assert refused.value.facts == {"team": first}
    with pytest.raises(errors.AlreadyInTeam):
        accept(app, token, "a", actor=leader_of(app, first))
    with pytest.raises(errors.AlreadyInTeam):
        app.register_team(
            contest_id,
            team_id=uuid4(),
            name="another",
            language="zh",
            leader=member("b"),
            actor=b,
            now=EARLY,
        )
    assert len(app.teams(contest_id)) == 2
    accept(app, token, "d")  # nothing of the refusals was stored: the invitation is open
    assert keys(app, second) == ["hmac-c", "hmac-d"]


# --- one person, one team ----------------------------------------------------------------------


def test_the_same_person_twice_in_one_team_is_refused_at_accept(app, contest_id):
    team_id, leader = lead(app, contest_id, "a")
    token = invite(app, team_id, leader)
    twin = own_account(app, "a")  # the same human being, a second account
    with pytest.raises(errors.MemberTwice) as refused:
        accept(app, token, "a", actor=twin)
    assert refused.value.facts["position"] == 2
    assert keys(app, team_id) == ["hmac-a"]
    assert app.account(twin.account_id).team_id is None
    accept(app, token, "b")


def test_a_person_in_another_team_is_refused_at_accept_and_leaves_nothing(app, contest_id):
    form_team(app, contest_id, "a", "b")
    team_id, leader = lead(app, contest_id, "c")
    token = invite(app, team_id, leader)
    with pytest.raises(errors.PersonInAnotherTeam) as refused:
        accept(app, token, "b")  # b again, with a second account
    assert refused.value.facts["position"] == 2
    assert keys(app, team_id) == ["hmac-c"]
    accept(app, token, "d")  # the invitation is still open
    assert keys(app, team_id) == ["hmac-c", "hmac-d"]


def test_a_person_in_another_team_is_refused_as_a_leader_and_leaves_nothing(app, contest_id):
    form_team(app, contest_id, "a", "b")
    with pytest.raises(errors.PersonInAnotherTeam) as refused:
        lead(app, contest_id, "b", name="b again")
    assert refused.value.facts["position"] == 1
    assert len(app.teams(contest_id)) == 1
    lead(app, contest_id, "c", name="b again")  # nor was the name taken


def test_one_organisation_may_field_several_teams(app, contest_id):
    form_team(app, contest_id, "a", "b", organisation="广西示例大学")
    form_team(app, contest_id, "c", "d", organisation="广西示例大学")
    assert len(app.teams(contest_id)) == 2


# --- deadlines and fields ------------------------------------------------------------------------


def test_registration_a_second_before_and_after_the_deadline(app, contest_id):
    lead(app, contest_id, "a", now=REGISTRATION_DEADLINE - SECOND)
    with pytest.raises(errors.RegistrationClosed):
        lead(app, contest_id, "c", now=REGISTRATION_DEADLINE)
    with pytest.raises(errors.RegistrationClosed):
        lead(app, contest_id, "c", now=REGISTRATION_DEADLINE + SECOND)


def test_language_is_locked_once_chosen(app, contest_id):
    team_id, leader = lead(app, contest_id, "a", language=None)
    app.choose_language(team_id, "en", actor=leader, now=EARLY)
    with pytest.raises(errors.LanguageLocked) as refused:
        app.choose_language(team_id, "zh", actor=ORGANISER, now=EARLY)
    assert refused.value.facts["language"] == "en"
    with pytest.raises(errors.LanguageUnknown):
        lead(app, contest_id, "c", language="fr")


def test_one_group_per_track(app, contest_id):
    team_id = form_team(app, contest_id, "a", "b")
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
    team_id = form_team(app, contest_id, "a", "b")
    app.enter_track(team_id, 1, "self_owned", actor=ORGANISER, now=REGISTRATION_DEADLINE - SECOND)
    with pytest.raises(errors.RegistrationClosed):
        app.enter_track(team_id, 7, "self_owned", actor=ORGANISER, now=REGISTRATION_DEADLINE)


def test_submission_needs_language_track_and_identity_proof(app, contest_id):
    team_id = form_team(app, contest_id, "a", "b", language=None)
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


# --- changing members ----------------------------------------------------------------------------


def test_withdraw_change_members_resubmit_until_the_modification_deadline(app, contest_id):
    organiser, signer = signing_organiser(app)
    team_id = ready_team(app, contest_id, "a", "b")
    leader, b = leader_of(app, team_id), account_of(app, team_id, "b")
    sent_before = invite(app, team_id, leader)
    app.submit(team_id, actor=leader, now=EARLY)
    with pytest.raises(errors.StatusForbids):  # under review: frozen
        invite(app, team_id, leader)
    with pytest.raises(errors.StatusForbids):
        accept(app, sent_before, "c")
    with pytest.raises(errors.StatusForbids):
        app.remove_member(team_id, b.account_id, actor=leader, now=EARLY)
    app.approve(team_id, actor=organiser, now=EARLY, signer=signer)
    late = MODIFICATION_DEADLINE - SECOND
    app.withdraw(team_id, actor=leader, now=late)
    app.remove_member(team_id, b.account_id, actor=leader, now=late)
    join(app, team_id, leader, "c", now=late)
    app.submit(team_id, actor=leader, now=late)
    assert app.team(team_id).status is Status.SUBMITTED
    assert keys(app, team_id) == ["hmac-a", "hmac-c"]
    with pytest.raises(errors.ModificationClosed):
        app.withdraw(team_id, actor=leader, now=MODIFICATION_DEADLINE)


def test_members_who_leave_are_free_and_those_who_join_are_taken(app, contest_id):
    first = ready_team(app, contest_id, "a", "b")
    leader, b = leader_of(app, first), account_of(app, first, "b")
    app.remove_member(first, b.account_id, actor=leader, now=EARLY)
    assert actor_of(app, b).team_id is None
    assert keys(app, first) == ["hmac-a"]
    join(app, first, leader, "c")
    second, second_leader = lead(app, contest_id, "d")
    # b's claim was released: b joins another team with the same account
    b = accept(app, invite(app, second, second_leader), "b", actor=actor_of(app, b))
    assert b.team_id == second
    with pytest.raises(errors.PersonInAnotherTeam):
        accept(app, invite(app, second, second_leader), "c")
    assert keys(app, second) == ["hmac-d", "hmac-b"]


def test_a_member_leaves_by_themselves_and_the_leader_stays(app, contest_id):
    team_id = form_team(app, contest_id, "a", "b", "c")
    leader, b, c = (account_of(app, team_id, person) for person in "abc")
    other = form_team(app, contest_id, "d", "e")
    with pytest.raises(errors.TeamNotYours):
        app.remove_member(team_id, b.account_id, actor=leader_of(app, other), now=EARLY)
    with pytest.raises(errors.NotPermitted):  # a member removes only themselves
        app.remove_member(team_id, b.account_id, actor=c, now=EARLY)
    with pytest.raises(errors.LeaderCount):
        app.remove_member(team_id, leader.account_id, actor=leader, now=EARLY)
    with pytest.raises(errors.MemberNotFound):
        app.remove_member(team_id, uuid4(), actor=leader, now=EARLY)
    app.remove_member(team_id, b.account_id, actor=b, now=EARLY)
    assert keys(app, team_id) == ["hmac-a", "hmac-c"]
    assert app.account(b.account_id).team_id is None
    assert actor_of(app, leader).leader


def test_member_changes_close_at_the_modification_deadline(app, contest_id):
    team_id = ready_team(app, contest_id, "a", "b", "c")
    leader = leader_of(app, team_id)
    late = MODIFICATION_DEADLINE - SECOND
    app.remove_member(team_id, account_of(app, team_id, "b").account_id, actor=leader, now=late)
    join(app, team_id, leader, "d", now=late)  # after registration closed, before the deadline
    token = invite(app, team_id, leader, now=late)
    with pytest.raises(errors.ModificationClosed):
        invite(app, team_id, leader, now=MODIFICATION_DEADLINE)
    with pytest.raises(errors.ModificationClosed):
        accept(app, token, "e", now=MODIFICATION_DEADLINE)
    with pytest.raises(errors.ModificationClosed):
        app.remove_member(
            team_id,
            account_of(app, team_id, "c").account_id,
            actor=leader,
            now=MODIFICATION_DEADLINE,
        )
    assert keys(app, team_id) == ["hmac-a", "hmac-c", "hmac-d"]


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
    other = form_team(app, contest_id, "c", "d")
    expert = Actor(account_id=uuid4(), role=Role.EXPERT)
    leader, b = leader_of(app, team_id), account_of(app, team_id, "b")
    with pytest.raises(errors.TeamNotYours):
        app.submit(team_id, actor=leader_of(app, other), now=EARLY)
    with pytest.raises(errors.NotPermitted):  # a member, not the leader
        app.submit(team_id, actor=b, now=EARLY)
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


HIDDEN = "南宁示例\u200b科技有限公司"


def test_an_organisation_with_a_hidden_character_is_refused_for_the_leader(app, contest_id):
    with pytest.raises(errors.OrganisationInvalid) as refused:
        lead(app, contest_id, member("a", organisation=HIDDEN))
    assert refused.value.facts == {"position": 1, "character": "U+200B ZERO WIDTH SPACE"}
    with pytest.raises(errors.OrganisationMissing) as refused:
        lead(app, contest_id, member("a", organisation="\u3000"))
    assert refused.value.facts == {"position": 1}
    assert app.teams(contest_id) == []


def test_an_organisation_with_a_hidden_character_is_refused_at_accept(app, contest_id):
    team_id, leader = lead(app, contest_id, "a")
    token = invite(app, team_id, leader)
    with pytest.raises(errors.OrganisationInvalid) as refused:
        accept(app, token, member("b", organisation=HIDDEN))
    assert refused.value.facts == {"position": 2, "character": "U+200B ZERO WIDTH SPACE"}
    with pytest.raises(errors.OrganisationMissing) as refused:
        accept(app, token, member("b", organisation=" "))
    assert refused.value.facts == {"position": 2}
    joined = accept(app, token, member("b", organisation=" 南宁示例科技有限公司 "))
    assert app.team(team_id).members[1]["organisation"] == "南宁示例科技有限公司"
    assert joined.team_id == team_id


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
