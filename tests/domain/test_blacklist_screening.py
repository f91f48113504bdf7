"""Blacklist screening on the real ledger: lists by hash, screening that resumes after a crash
and never disqualifies a team twice, unreadable lists named, version 1 lists still screened."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from helpers import EARLY, ORGANISER, form_team, lead, new_contest
from ledger_scenario import open_registration

from domain import errors
from domain.blacklist import Blacklist
from domain.registration import Registration
from ledger.blobs import BlobStore
from services import intake

GOLDEN = Path(__file__).parent / "golden"
LISTED = "南宁示例科技有限公司"
CSV = f"organisation,credit_code\n{LISTED},\n北京示例失信企业有限公司,\n".encode()


class PowerCut(Exception):
    """The process dies here."""


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def desk(tmp_path, sqlite_url, blobs):
    """A new desk on the same ledger and blob store each call: a process of its own."""

    def open_desk() -> Registration:
        app = open_registration(tmp_path, sqlite_url)
        app.list_reader = intake.blacklist_reader(blobs)
        return app

    return open_desk


def register(app, contest_id, name: str, organisation: str) -> UUID:
    """A team of two of this organisation, formed by its leader and one who accepts."""
    return form_team(
        app, contest_id, f"{name}-1", f"{name}-2", name=name, organisation=organisation
    )


def import_list(app, contest_id, data: bytes = CSV, blobs: BlobStore | None = None):
    listing = intake.parse_blacklist(data, "list.csv")
    if blobs is not None:
        blobs.put(listing.data)
    return app.import_blacklist(
        contest_id,
        source="Credit China",
        sha256=listing.sha256,
        listed_on="2026-06-01",
        entries=listing.entries,
        actor=ORGANISER,
        now=EARLY,
    )


def crash_after(app, teams_saved: int) -> None:
    """The save that would record team number ``teams_saved + 1`` dies before writing."""
    real_save, seen = app.save, []

    def save(*aggregates, **kwargs):
        if any(type(aggregate).__name__ == "Team" for aggregate in aggregates):
            if len(seen) == teams_saved:
                raise PowerCut()
            seen.append(aggregates)
        return real_save(*aggregates, **kwargs)

    app.save = save


def stored(app, originator: UUID, name: str) -> list[dict]:
    return [
        json.loads(event.state)
        for event in app.recorder.select_events(originator)
        if event.topic.endswith(f".{name}")
    ]


def disqualifications(app, team_id: UUID) -> int:
    return len(stored(app, team_id, "Disqualified"))


@pytest.fixture
def four_teams(desk):
    """Three listed teams around a clean one, registered before any list exists."""
    app = desk()
    contest_id = new_contest(app)
    teams = [
        register(app, contest_id, "a", LISTED),
        register(app, contest_id, "b", "广西大学"),
        register(app, contest_id, "c", LISTED),
        register(app, contest_id, "d", LISTED),
    ]
    return contest_id, teams


@pytest.mark.parametrize("done", [0, 1, 3])
def test_a_crash_after_k_teams_leaves_k_screened_and_resuming_screens_the_rest_once(
    desk, blobs, four_teams, done
):
    contest_id, teams = four_teams
    listed = [teams[0], teams[2], teams[3]]
    crashing = desk()
    crash_after(crashing, done)
    with pytest.raises(PowerCut):
        import_list(crashing, contest_id, blobs=blobs)

    app = desk()  # the next process
    blacklist = app.blacklist(contest_id)
    assert [record["number"] for record in blacklist.lists] == [1]
    assert blacklist.unfinished() == [1]
    assert blacklist.screening(1)["screened"] == teams[:done]
    assert blacklist.due(1) == teams[done:]
    assert len(stored(app, blacklist.id, "TeamScreened")) == done
    assert [app.team(team).disqualified for team in teams] == [
        team in listed for team in teams[:done]
    ] + [False] * (4 - done)

    assert app.resume_screening(contest_id, actor=ORGANISER, now=EARLY) == [(1, listed)]
    blacklist = app.blacklist(contest_id)
    assert blacklist.unfinished() == [] and blacklist.due(1) == []
    assert len(stored(app, blacklist.id, "ScreeningFinished")) == 1
    assert [disqualifications(app, team) for team in teams] == [1, 0, 1, 1]

    events = len(list(app.recorder.select_notifications(start=1, limit=10_000)))
    assert desk().resume_screening(contest_id, actor=ORGANISER, now=EARLY) == []
    assert len(list(app.recorder.select_notifications(start=1, limit=10_000))) == events
    assert [disqualifications(app, team) for team in teams] == [1, 0, 1, 1]


def test_the_next_import_finishes_the_screening_cut_short_first(desk, blobs, four_teams):
    contest_id, teams = four_teams
    crashing = desk()
    crash_after(crashing, 1)
    with pytest.raises(PowerCut):
        import_list(crashing, contest_id, blobs=blobs)
    second = CSV + "某某失信公司,\n".encode()
    app = desk()
    assert import_list(app, contest_id, second, blobs=blobs) == (2, [])
    blacklist = app.blacklist(contest_id)
    assert blacklist.unfinished() == []
    assert blacklist.screening(1)["disqualified"] == [teams[0], teams[2], teams[3]]
    assert [disqualifications(app, team) for team in teams] == [1, 0, 1, 1]


def test_two_desks_resuming_at_once_disqualify_each_team_once(desk, blobs, four_teams):
    contest_id, teams = four_teams
    crashing = desk()
    crash_after(crashing, 0)
    with pytest.raises(PowerCut):
        import_list(crashing, contest_id, blobs=blobs)
    fast, slow = desk(), desk()
    real_team = slow.team

    def team_after_the_rival(team_id):
        if fast.blacklist(contest_id).unfinished():
            fast.resume_screening(contest_id, actor=ORGANISER, now=EARLY)
        return real_team(team_id)

    slow.team = team_after_the_rival  # slow read the screening before fast finished it
    with pytest.raises(errors.ConcurrentChange):
        slow.resume_screening(contest_id, actor=ORGANISER, now=EARLY)
    assert [disqualifications(fast, team) for team in teams] == [1, 0, 1, 1]
    assert desk().resume_screening(contest_id, actor=ORGANISER, now=EARLY) == []


def test_the_list_event_names_the_file_by_hash_and_holds_no_entries(desk, blobs, four_teams):
    contest_id, teams = four_teams
    app = desk()
    import_list(app, contest_id, blobs=blobs)
    sha256 = intake.parse_blacklist(CSV, "list.csv").sha256
    (event,) = stored(app, Blacklist.create_id(contest_id), "ListImported")
    assert set(event) == {
        "timestamp",
        "class_version",
        "number",
        "source",
        "sha256",
        "listed_on",
        "count",
        "by",
        "at",
    }
    assert (event["class_version"], event["sha256"], event["count"]) == (2, sha256, 2)
    assert LISTED not in json.dumps(event, ensure_ascii=False)
    (started,) = stored(app, Blacklist.create_id(contest_id), "ScreeningStarted")
    assert started["number"] == 1 and len(started["teams"]) == 4
    assert intake.blacklist_reader(blobs)(sha256)[0] == {"name": LISTED, "code": None}
    evidence = app.team(teams[0]).evidence[0]
    assert (evidence["sha256"], evidence["list"], evidence["entry_name"]) == (sha256, 1, LISTED)
    # a team registered later is screened against the list read by hash
    late, _ = lead(app, contest_id, "e-1", name="e", organisation=LISTED)
    assert app.team(late).disqualified


def _alter(blobs: BlobStore, sha256: str) -> None:
    path = blobs.root / sha256[:2] / sha256[2:]
    path.chmod(0o640)
    path.write_bytes(CSV.replace(LISTED.encode(), "别的公司".encode()))


@pytest.mark.parametrize("damage", ["missing", "altered"])
def test_an_unreadable_list_file_is_named_and_screens_nobody(desk, blobs, four_teams, damage):
    contest_id, teams = four_teams
    crashing = desk()
    crash_after(crashing, 0)
    with pytest.raises(PowerCut):
        import_list(crashing, contest_id, blobs=blobs)
    sha256 = intake.parse_blacklist(CSV, "list.csv").sha256
    if damage == "missing":
        blobs.discard(sha256)
    else:
        _alter(blobs, sha256)
    app = desk()
    with pytest.raises(errors.BlacklistUnreadable) as refused:
        app.resume_screening(contest_id, actor=ORGANISER, now=EARLY)
    assert refused.value.facts == {"list": 1, "sha256": sha256}
    assert "huiyan blacklist resume" in refused.value.message("en")
    assert app.blacklist(contest_id).due(1) == teams
    assert not any(app.team(team).disqualified for team in teams)
    # nor can a team register unscreened while the list cannot be read
    with pytest.raises(errors.BlacklistUnreadable):
        register(app, contest_id, "e", LISTED)

    blobs.discard(sha256)
    blobs.put(CSV)  # the file restored from a backup
    assert desk().resume_screening(contest_id, actor=ORGANISER, now=EARLY) == [
        (1, [teams[0], teams[2], teams[3]])
    ]


def test_a_list_is_recorded_only_once_its_file_reads_back_by_hash(desk, blobs, four_teams):
    contest_id, teams = four_teams
    app = desk()
    with pytest.raises(errors.BlacklistUnreadable):
        import_list(app, contest_id)  # the file was never stored
    other = intake.parse_blacklist("organisation\n别的公司\n".encode(), "other.csv")
    blobs.put(CSV)
    with pytest.raises(errors.BlacklistContentMismatch):
        app.import_blacklist(
            contest_id,
            source="Credit China",
            sha256=intake.parse_blacklist(CSV, "list.csv").sha256,
            listed_on="2026-06-01",
            entries=other.entries,
            actor=ORGANISER,
            now=EARLY,
        )
    blacklist = desk().blacklist(contest_id)
    assert blacklist.lists == [] and blacklist.screenings == []
    assert not any(app.team(team).disqualified for team in teams)


def test_resuming_is_for_organisers(desk, four_teams):
    from domain.accounts import Actor, Role

    contest_id, _ = four_teams
    expert = Actor(account_id=uuid4(), role=Role.EXPERT)
    with pytest.raises(errors.NotPermitted):
        desk().resume_screening(contest_id, actor=expert, now=EARLY)
    assert desk().resume_screening(contest_id, actor=ORGANISER, now=EARLY) == []


def test_version_1_lists_replay_and_are_screened_from_their_own_event(tmp_path, sqlite_url):
    app = open_registration(tmp_path, sqlite_url)  # no reader: a v1 list needs none
    lines = (GOLDEN / "registration-v1.jsonl").read_text().splitlines()
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(line["originator_id"]),
                originator_version=line["originator_version"],
                topic=line["topic"],
                state=line["state"].encode(),
            )
            for line in map(json.loads, lines)
        ]
    )
    (contest,) = app.contests()
    blacklist = app.blacklist(contest.id)
    (listing,) = blacklist.lists
    assert listing["count"] == 2 and listing["embedded"][0]["name"] == LISTED
    assert blacklist.unfinished() == [] and blacklist.screenings == []
    team_id, _ = lead(app, contest.id, "late-1", name="late", organisation=LISTED)
    evidence = app.team(team_id).evidence
    assert [(item["list"], item["entry_name"]) for item in evidence] == [(1, LISTED)]
    assert evidence[0]["sha256"] == listing["sha256"]


def test_live_and_replayed_blacklists_are_equal(tmp_path, sqlite_url, blobs, four_teams):
    from ledger_scenario import Recording

    contest_id, _ = four_teams
    app = open_registration(tmp_path, sqlite_url, Recording)
    app.list_reader = intake.blacklist_reader(blobs)
    import_list(app, contest_id, blobs=blobs)
    live = app.live[Blacklist.create_id(contest_id)]
    assert vars(app.repository.get(live.id)) == vars(live)


def test_the_cli_resumes_a_screening_and_says_when_there_is_none(
    tmp_path, monkeypatch, four_teams, blobs
):
    from click.testing import CliRunner

    from cli import registration as cli

    contest_id, teams = four_teams
    crashing = open_registration(tmp_path, f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    crashing.list_reader = intake.blacklist_reader(blobs)
    crash_after(crashing, 1)
    with pytest.raises(PowerCut):
        import_list(crashing, contest_id, blobs=blobs)
    monkeypatch.setattr(cli.Desk, "acting", lambda self: ORGANISER)  # signed in
    env = {
        "HUIYAN_HOME": str(tmp_path),
        "HUIYAN_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "HUIYAN_ENV": "test",
        "HUIYAN_CLOCK": "2026-06-01T09:00:00+08:00",
    }

    def run(*args: str):
        return CliRunner().invoke(cli.blacklist, list(args), env=env)

    sha256 = intake.parse_blacklist(CSV, "list.csv").sha256
    blobs.discard(sha256)
    refused = run("resume")
    assert refused.exit_code == 2 and "[blacklist.unreadable]" in refused.output
    assert refused.output.count("\n") == 1  # one line, no traceback
    blobs.put(CSV)
    resumed = run("resume")
    assert resumed.exit_code == 0, resumed.output
    listed = [str(team) for team in (teams[0], teams[2], teams[3])]
    assert resumed.output.splitlines() == ["list 1: screening finished, 3 disqualified", *listed]
    assert run("resume").output.splitlines() == ["no screening to resume"]

    second = tmp_path / "second.csv"
    second.write_bytes(CSV + "某某失信公司,\n".encode())
    imported = run("import", "--file", str(second), "--source", "Credit China")
    assert imported.output.splitlines() == ["list 2: 3 entries, 0 disqualified"]
