"""Registration on the real ledger: replay equals live, racing registrations, golden events."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from helpers import named_team, new_contest, race_to_accept
from ledger_scenario import Recording, open_registration, settings_for

from demo.registration import play_registration
from domain import errors
from domain.registration import Registration

GOLDEN = Path(__file__).parent / "golden"


def test_every_aggregate_rebuilt_from_its_events_equals_the_live_one(tmp_path, sqlite_url):
    app = open_registration(tmp_path, sqlite_url, Recording)
    summary = play_registration(settings_for(tmp_path, sqlite_url), app)
    assert {team["status"] for team in summary["teams"].values()} >= {"approved"}
    assert len(app.live) >= 10
    for ident, live in app.live.items():
        replayed = app.repository.get(ident)
        assert type(replayed) is type(live)
        assert vars(replayed) == vars(live), type(live).__name__


def _lose_the_race(tmp_path, sqlite_url, ours, theirs):
    """Deterministic interleaving: the rival forms ``theirs`` (name, people...) between our
    leader's read and write of the registration of ``ours``; returns the rival desk and the
    contest."""
    rival = open_registration(tmp_path, sqlite_url)
    contest_id = new_contest(rival)

    class Interleaved(Registration):
        def _screen(self, team, actor, now, **kwargs):
            if team.name == ours[0]:
                named_team(rival, contest_id, *theirs)
            return super()._screen(team, actor, now, **kwargs)

    slow = open_registration(tmp_path, sqlite_url, Interleaved)
    named_team(slow, contest_id, *ours)
    return rival, contest_id


def test_a_registration_that_loses_the_write_race_names_the_taken_person(tmp_path, sqlite_url):
    with pytest.raises(errors.PersonInAnotherTeam) as refused:
        _lose_the_race(tmp_path, sqlite_url, ("slow", "shared", "y"), ("fast", "x", "shared"))
    assert refused.value.facts["position"] == 1
    rival = open_registration(tmp_path, sqlite_url)
    assert [team.name for team in rival.teams(rival.contests()[0].id)] == ["fast"]


def test_a_registration_that_loses_the_race_for_its_name_names_the_name(tmp_path, sqlite_url):
    """The rival registers the same name (other spelling, other people): one team stored."""
    with pytest.raises(errors.TeamNameTaken):
        _lose_the_race(tmp_path, sqlite_url, ("Slow Eyes", "a", "b"), ("SLOW EYES", "x", "y"))
    rival = open_registration(tmp_path, sqlite_url)
    assert [team.name for team in rival.teams(rival.contests()[0].id)] == ["SLOW EYES"]


def test_an_acceptance_that_loses_the_race_for_its_person_names_the_person(tmp_path, sqlite_url):
    """While "shared" accepts our invitation, the same person (another account) registers
    a team of their own: our acceptance is refused and nothing of it is stored."""
    rival = open_registration(tmp_path, sqlite_url)
    contest_id = new_contest(rival)

    class Interleaved(Registration):
        def _screen(self, team, actor, now, **kwargs):
            if len(team.members) == 2:  # screening our acceptance, before its write
                named_team(rival, contest_id, "fast", "shared", "x")
            return super()._screen(team, actor, now, **kwargs)

    slow = open_registration(tmp_path, sqlite_url, Interleaved)
    with pytest.raises(errors.PersonInAnotherTeam) as refused:
        named_team(slow, contest_id, "slow", "y", "shared")
    assert refused.value.facts["position"] == 2
    teams = {team.name: team for team in rival.teams(contest_id)}
    assert teams["slow"].identity_keys == ["hmac-y"]
    assert teams["fast"].identity_keys == ["hmac-shared", "hmac-x"]


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_taking_in_the_same_person_exactly_one_wins(tmp_path, postgres_url):
    """Each process forms a team and has "shared" (one account per team) accept its
    invitation at the same moment as the other."""
    app = open_registration(tmp_path, postgres_url)
    contest_id = new_contest(app)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        for round_number in range(3):
            shared, barrier = f"shared-{round_number}", manager.Barrier(2)
            home, sides = str(tmp_path), [f"a{round_number}", f"b{round_number}"]
            outcomes = pool.starmap(
                race_to_accept,
                [(home, postgres_url, contest_id, (side, shared), barrier) for side in sides],
            )
            # The loser learns who holds the person (or, if it read before the winner wrote,
            # that it lost the race); either way exactly one acceptance exists.
            assert outcomes.count("joined") == 1, outcomes
            assert set(outcomes) - {"joined"} <= {
                "ledger.concurrent_change",
                "team.person_taken",
            }
            print("race outcomes:", outcomes)
    teams = app.teams(contest_id)
    assert sorted(len(team.members) for team in teams) == [1, 1, 1, 2, 2, 2]
    keys = [key for team in teams for key in team.identity_keys]
    assert len(keys) == len(set(keys))


def test_golden_events_of_version_1_replay(tmp_path, sqlite_url):
    """Events written by huiyan 0.1 must replay in every later version (write upcasters)."""
    app = open_registration(tmp_path, sqlite_url)
    expected = json.loads((GOLDEN / "registration-v1.expected.json").read_text())
    stored = [
        StoredEvent(
            originator_id=UUID(line["originator_id"]),
            originator_version=line["originator_version"],
            topic=line["topic"],
            state=line["state"].encode(),
        )
        for line in map(json.loads, (GOLDEN / "registration-v1.jsonl").read_text().splitlines())
    ]
    app.recorder.insert_events(stored)
    for ident, facts in expected.items():
        aggregate = app.repository.get(UUID(ident))
        assert type(aggregate).__name__ == facts["type"]
        assert aggregate.version == facts["version"]
        for name, value in facts.get("state", {}).items():
            assert str(getattr(aggregate, name)) == value, (ident, name)
