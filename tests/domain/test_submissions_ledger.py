"""Submissions on the real ledger: a second application reads what the registration desk
recorded, and the quota holds when a rival submission lands between our read and our write."""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers import EARLY, ORGANISER, new_contest, ready_team, signing_organiser
from ledger_scenario import settings_for

from domain import errors
from domain.registration import Registration
from domain.submissions import Submissions
from domain.time import SHANGHAI
from ledger.application import open_application

DAY = datetime(2026, 8, 10, 9, tzinfo=SHANGHAI)
MODEL = {"track": 1, "model_kind": "bundle", "model_ref": "b" * 64, "report_sha256": "d" * 64}


def registered(tmp_path, url):
    """The registration desk records contest, rules and an approved team (quota 3 a day)."""
    registration = open_application(Registration, settings_for(tmp_path, url))
    organiser, signer = signing_organiser(registration)
    contest_id = new_contest(registration)
    registration.publish_rules(
        contest_id, sha256="3" * 64, blob="3" * 64, actor=organiser, now=EARLY, signer=signer
    )
    team_id = ready_team(registration, contest_id, "l1", "l2")
    registration.submit(team_id, actor=ORGANISER, now=EARLY)
    registration.approve(team_id, actor=organiser, now=EARLY, signer=signer)
    return registration, contest_id, team_id


def open_desk(tmp_path, url, cls=Submissions) -> Submissions:
    return open_application(cls, settings_for(tmp_path, url))


def test_the_submission_desk_reads_what_registration_recorded(tmp_path, sqlite_url):
    registration, contest_id, team_id = registered(tmp_path, sqlite_url)
    desk = open_desk(tmp_path, sqlite_url)
    desk.register_testset(
        contest_id,
        track=1,
        sha256="1" * 64,
        truth_sha256="2" * 64,
        cases=3,
        actor=ORGANISER,
        now=EARLY,
    )
    submission_id = desk.submit(team_id=team_id, actor=ORGANISER, now=DAY, **MODEL)
    assert desk.submission(submission_id).rules_sha256 == "3" * 64
    assert desk.fail_inference(
        submission_id,
        job_id="j1",
        reason="platform_fault",
        detail="node lost",
        exit_code=None,
        validation_report=None,
        log_sha256=None,
        now=DAY,
    )
    # a fresh desk replays submission and quota from the ledger alone
    replayed = open_desk(tmp_path, sqlite_url)
    assert replayed.submission(submission_id).refund_due
    assert replayed.quota(contest_id, team_id, 1).used() == 0
    # and the registration desk's own view is untouched
    assert registration.team(team_id).status.value == "approved"


@pytest.mark.parametrize("already_used, refusal", [(2, errors.DailyQuotaReached), (0, None)])
def test_a_submission_that_loses_the_race_for_a_slot(tmp_path, sqlite_url, already_used, refusal):
    _, contest_id, team_id = registered(tmp_path, sqlite_url)
    rival = open_desk(tmp_path, sqlite_url)
    rival.register_testset(
        contest_id,
        track=1,
        sha256="1" * 64,
        truth_sha256="2" * 64,
        cases=3,
        actor=ORGANISER,
        now=EARLY,
    )
    for _ in range(already_used):
        rival.submit(team_id=team_id, actor=ORGANISER, now=DAY, **MODEL)

    class Interleaved(Submissions):
        """Reads the quota, then lets the rival submit before writing."""

        raced = False

        def quota(self, *args):
            found = super().quota(*args)
            if not Interleaved.raced:
                Interleaved.raced = True
                rival.submit(team_id=team_id, actor=ORGANISER, now=DAY, **MODEL)
            return found

    slow = open_desk(tmp_path, sqlite_url, Interleaved)
    with pytest.raises(refusal or errors.ConcurrentChange):
        slow.submit(team_id=team_id, actor=ORGANISER, now=DAY, **MODEL)
    # the loser stored nothing: exactly the rival's submissions hold slots
    assert rival.quota(contest_id, team_id, 1).used() == already_used + 1
    assert len(rival.submissions(team_id=team_id)) == already_used + 1
