"""The contest file's checks, rules publication, accounts and blacklist screening."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import (
    CALENDAR,
    EARLY,
    LISTED_CODE,
    ORGANISER,
    PRELIMINARY_START,
    SECOND,
    TRACKS,
    accept,
    form_team,
    invite,
    join,
    lead,
    leader_of,
    member,
    new_contest,
    public_key,
    ready_team,
    signing_organiser,
)

from domain import errors
from domain.accounts import Role
from domain.contest import Calendar
from domain.organisations import normalise_code
from domain.teams import Member


def test_calendar_dates_must_follow_each_other():
    with pytest.raises(errors.CalendarOutOfOrder) as refused:
        replace(CALENDAR, preliminary_start=CALENDAR.modification_deadline)
    assert refused.value.facts == {
        "earlier": "modification_deadline",
        "later": "preliminary_start",
    }
    with pytest.raises(errors.TimeNotAware):
        replace(CALENDAR, final_end=CALENDAR.final_end.replace(tzinfo=None))
    with pytest.raises(errors.ContestFieldInvalid):
        replace(CALENDAR, review_sla_days=0)
    assert isinstance(
        replace(CALENDAR, modification_deadline=CALENDAR.registration_deadline), Calendar
    )


def test_contest_is_created_once_and_checks_its_tracks(app):
    new_contest(app)
    with pytest.raises(errors.ContestAlreadyExists):
        new_contest(app)
    bad = [dict(TRACKS[0], groups=["self_owned", "no_such_group"])]
    with pytest.raises(errors.ContestFieldInvalid) as refused:
        app.create_contest(
            slug="other",
            name={"zh": "赛", "en": "c"},
            groups=[{"id": "self_owned", "name": {"zh": "组", "en": "g"}}],
            tracks=bad,
            calendar=CALENDAR,
            quota=app.contest_by_slug("huiyan-2026").quota,
            actor=ORGANISER,
            now=EARLY,
        )
    assert refused.value.facts["field"] == "tracks[0].groups"


def test_rules_change_until_the_round_starts_and_earlier_versions_stay(app, contest_id):
    organiser, signer = signing_organiser(app)

    def publish(letter: str, now):
        return app.publish_rules(
            contest_id,
            sha256=letter * 64,
            blob=letter * 64,
            actor=organiser,
            now=now,
            signer=signer,
        )

    assert publish("a", EARLY) == 1
    with pytest.raises(errors.RulesUnchanged):
        publish("a", EARLY)
    last_moment = PRELIMINARY_START - SECOND
    assert publish("b", last_moment) == 2
    with pytest.raises(errors.RulesFrozen):
        publish("c", PRELIMINARY_START)
    book = app.rules(contest_id)
    assert [v["sha256"][0] for v in book.versions] == ["a", "b"]
    assert book.in_force()["version"] == 2


def test_first_account_is_the_bootstrap_and_later_ones_need_an_organiser(app):
    person = {"credential": "c" * 64, "now": EARLY}
    first = app.open_account(
        login_key="k1", role=Role.ORGANISER, actor=None, public_key=public_key(), **person
    )
    organiser = app.account(first).actor
    with pytest.raises(errors.NotPermitted):
        app.open_account(
            login_key="k2", role=Role.EXPERT, actor=None, public_key=public_key(), **person
        )
    with pytest.raises(errors.AccountExists):
        app.open_account(
            login_key="k1", role=Role.EXPERT, actor=organiser, public_key=public_key(), **person
        )
    with pytest.raises(errors.NotPermitted):  # team members open their own accounts
        app.open_account(
            login_key="k3",
            role=Role.TEAM_MEMBER,
            actor=organiser,
            public_key=public_key(),
            **person,
        )
    with pytest.raises(errors.AccountNotFound):
        app.account_by_login("k3")
    with pytest.raises(errors.SigningKeyRequired):  # a person signs: no key, no account
        app.open_account(login_key="k4", role=Role.EXPERT, actor=organiser, **person)
    with pytest.raises(errors.RoleUnknown):
        Role.parse("admin")


def test_a_team_member_opens_their_own_account_in_no_team(app):
    own = {"credential": "c" * 64, "person": "d" * 64, "now": EARLY}
    with pytest.raises(errors.NotPermitted):  # nor as the platform's very first account
        app.open_account(
            login_key="k0", role=Role.TEAM_MEMBER, actor=None, public_key=public_key(), **own
        )
    account_id = app.open_own_account(login_key="k1", public_key=public_key(), **own)
    actor = app.account(account_id).actor
    assert (actor.role, actor.team_id, actor.leader) == (Role.TEAM_MEMBER, None, False)
    with pytest.raises(errors.AccountExists):
        app.open_own_account(login_key="k1", public_key=public_key(), **own)
    with pytest.raises(errors.SigningKeyRequired):
        app.open_own_account(login_key="k2", public_key=None, **own)
    assert not app.bootstrapped()  # a person's own account opens no platform


def test_credit_code_check_digit():
    assert normalise_code(LISTED_CODE.lower()) == LISTED_CODE
    with pytest.raises(errors.OrganisationCodeInvalid):
        normalise_code(LISTED_CODE[:-1] + "0")


def _import(app, contest_id, entries, sha="f" * 64):
    return app.import_blacklist(
        contest_id,
        source="Credit China",
        sha256=sha,
        listed_on="2026-06-01",
        entries=entries,
        actor=ORGANISER,
        now=EARLY,
    )


def test_listed_organisation_disqualifies_with_evidence_and_clearing_needs_a_reason(
    app, contest_id
):
    listed = Member("hmac-x", "0" * 64, "南宁示例科技有限公司", LISTED_CODE)
    clean = ready_team(app, contest_id, "a", "b")
    team_id = ready_team(app, contest_id, "c")
    join(app, team_id, leader_of(app, team_id), listed)
    number, disqualified = _import(app, contest_id, [{"name": "某公司", "code": LISTED_CODE}])
    assert (number, disqualified) == (1, [team_id])
    team = app.team(team_id)
    evidence = team.evidence[0]
    assert evidence["matched_on"] == "code" and evidence["sha256"] == "f" * 64
    assert evidence["source"] == "Credit China" and evidence["entry_code"] == LISTED_CODE
    with pytest.raises(errors.TeamDisqualified):
        app.submit(team_id, actor=ORGANISER, now=EARLY)
    organiser, signer = signing_organiser(app)
    clear = {"actor": organiser, "now": EARLY, "signer": signer}
    with pytest.raises(errors.ReasonRequired):
        app.clear_match(team_id, evidence["match"], reason="", **clear)
    app.clear_match(team_id, evidence["match"], reason="different entity", **clear)
    assert not app.team(team_id).disqualified and not app.team(clean).disqualified
    # the next edition of the list names the same entity: the cleared match stays cleared
    _import(app, contest_id, [{"name": "某公司", "code": LISTED_CODE}], sha="e" * 64)
    assert not app.team(team_id).disqualified
    app.submit(team_id, actor=ORGANISER, now=EARLY)


def test_names_match_across_full_width_brackets_when_a_code_is_missing(app, contest_id):
    team_id = form_team(
        app, contest_id, member("a", organisation="某某科技（南宁）有限公司"), "b", name="t"
    )
    _import(app, contest_id, [{"name": "某某科技(南宁)有限公司", "code": None}])
    assert app.team(team_id).evidence[0]["matched_on"] == "name"
    with pytest.raises(errors.BlacklistAlreadyImported):
        _import(app, contest_id, [{"name": "x", "code": None}])


def test_registering_a_team_with_a_listed_organisation_disqualifies_it_at_once(app, contest_id):
    _import(app, contest_id, [{"name": "广 西 大 学", "code": None}])
    team_id, _ = lead(app, contest_id, "a", name="t")
    assert app.team(team_id).disqualified
    with pytest.raises(errors.TeamDisqualified):
        app.enter_track(team_id, 1, "self_owned", actor=ORGANISER, now=EARLY)


def test_a_member_of_a_listed_organisation_who_accepts_disqualifies_the_team(app, contest_id):
    _import(app, contest_id, [{"name": "某公司", "code": LISTED_CODE}])
    team_id, leader = lead(app, contest_id, "a", name="t")
    token = invite(app, team_id, leader)
    assert not app.team(team_id).disqualified
    joined = accept(app, token, member("x", organisation="南宁示例科技有限公司", code=LISTED_CODE))
    team = app.team(team_id)
    assert joined.team_id == team_id and len(team.members) == 2  # the acceptance stands
    (evidence,) = team.evidence
    assert (evidence["matched_on"], evidence["entry_code"]) == ("code", LISTED_CODE)
    with pytest.raises(errors.TeamDisqualified):
        invite(app, team_id, leader)
    other, other_leader = lead(app, contest_id, "c", name="u")
    accept(app, invite(app, other, other_leader), "d")  # a clean member: nothing recorded
    assert not app.team(other).disqualified


def test_a_list_is_checked_then_recorded_by_hash_and_screened_to_the_end(app, contest_id):
    with pytest.raises(errors.BlacklistEmpty):
        _import(app, contest_id, [])
    with pytest.raises(errors.BlacklistEntryInvalid) as refused:
        _import(app, contest_id, [{"name": "x", "code": None}, {"name": " ", "code": None}])
    assert refused.value.facts == {"line": 3}
    team_id = ready_team(app, contest_id, "a", "b")
    # no reader: the desk screens with the entries it was handed, held by hash in memory
    assert _import(app, contest_id, [{"name": "广西大学", "code": None}]) == (1, [team_id])
    blacklist = app.blacklist(contest_id)
    (listing,) = blacklist.lists
    assert (listing["count"], listing["embedded"], listing["sha256"]) == (1, None, "f" * 64)
    screening = blacklist.screening(1)
    assert screening["teams"] == screening["screened"] == screening["disqualified"] == [team_id]
    assert screening["finished_at"] == EARLY and blacklist.unfinished() == []
    assert app.resume_screening(contest_id, actor=ORGANISER, now=EARLY) == []
    with pytest.raises(errors.TeamAlreadyScreened):
        blacklist.mark_screened(1, team_id, disqualified=False, by=ORGANISER.account_id, now=EARLY)


def test_two_racing_first_accounts_cannot_both_be_the_bootstrap(app, monkeypatch):
    """Both callers find no bootstrap yet (they read at the same moment); the claim with its
    one fixed id lets exactly one of them write."""
    seen = {"checks": 0}
    real_exists = app._exists

    def racing(ident):
        from domain.accounts import BootstrapClaim

        if ident == BootstrapClaim.create_id() and seen["checks"] < 2:
            seen["checks"] += 1
            return False  # the second caller read before the first one wrote
        return real_exists(ident)

    monkeypatch.setattr(app, "_exists", racing)
    person = {"role": Role.ORGANISER, "credential": "c" * 64, "actor": None, "now": EARLY}
    app.open_account(login_key="a", public_key=public_key(), **person)
    with pytest.raises(errors.NotPermitted):
        app.open_account(login_key="b", public_key=public_key(), **person)
    with pytest.raises(errors.AccountNotFound):
        app.account_by_login("b")  # nothing of the loser was written
