"""The access log: entries and their query, sign-in lock-out, and a stream that verifies.

Lock-out and queries run on SQLite; the stream's verification and tamper checks on SQLite and
PostgreSQL; the database's refusal of DELETE and UPDATE on PostgreSQL only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.access_log import (
    FAILURES_BEFORE_LOCK,
    LOCK,
    AccessLog,
    AccessLogError,
    LoginLocked,
    access_settings,
)
from ledger import rotation
from ledger.ledger import keyring_for
from ledger.settings import Settings
from tests.ledger.history import fill, huiyan_for, make_settings

T0 = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
KEY = "9f2c" * 16  # a keyed hash of a login, as callers pass it
WEB = "web:203.0.113.5"
ACCESS = "access_events"
CONTEST = "ledger_events"


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


@pytest.fixture(params=["sqlite", "postgres"])
def any_settings(request, tmp_path) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return make_settings(tmp_path / "home", url)


@pytest.fixture
def postgres_settings(tmp_path, postgres_url) -> Settings:
    return make_settings(tmp_path / "home", postgres_url)


huiyan = huiyan_for


def verify_access(settings: Settings) -> tuple[int, dict]:
    result = huiyan(settings, "ledger", "verify", "--stream", "access", "--json")
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def sql(settings: Settings, statement: str, **params) -> list:
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def count(settings: Settings, table: str) -> int:
    return sql(settings, f"SELECT count(*) FROM {table}")[0][0]


def read(log: AccessLog, who: str, action: str, subject: str, at: datetime, **kw) -> None:
    fields = {"role": "expert", "outcome": "ok", "origin": WEB} | kw
    log.record(who=who, action=action, subject=subject, at=at, **fields)


def fail(log: AccessLog, minutes: float, key: str = KEY) -> datetime | None:
    return log.sign_in_failed(key, origin=WEB, at=T0 + timedelta(minutes=minutes))


def some_entries(log: AccessLog) -> tuple[str, str]:
    alice, bob = str(uuid4()), str(uuid4())
    team = str(uuid4())
    read(log, alice, "read.team_members", team, T0)
    read(log, bob, "read.id_document", team, T0 + timedelta(minutes=1))
    read(log, alice, "read.results", team, T0 + timedelta(minutes=2), outcome="refused")
    read(log, alice, "admin.contest-open", "", T0 + timedelta(minutes=3), role="organiser")
    log.sign_in_succeeded(KEY, alice, origin="cli:alice@desk", at=T0 + timedelta(minutes=4))
    return alice, bob


# --- entries ----------------------------------------------------------------------------------


def test_entries_are_recorded_and_queried_by_since_who_and_what(sqlite_settings):
    log = AccessLog.open(sqlite_settings)
    alice, bob = some_entries(log)
    everything = log.entries()
    assert [e["action"] for e in everything] == [
        "read.team_members",
        "read.id_document",
        "read.results",
        "admin.contest-open",
        "signin",
    ]
    assert [e["at"] for e in everything] == sorted(e["at"] for e in everything)
    refused = everything[2]
    assert (refused["who"], refused["role"], refused["outcome"], refused["origin"]) == (
        alice,
        "expert",
        "refused",
        WEB,
    )
    assert everything[4]["origin"] == "cli:alice@desk" and everything[4]["subject"] == KEY
    since = log.entries(since=T0 + timedelta(minutes=2))
    assert [e["action"] for e in since] == ["read.results", "admin.contest-open", "signin"]
    assert {e["who"] for e in log.entries(who=bob)} == {bob}
    assert len(log.entries(who=alice)) == 4
    assert [e["action"] for e in log.entries(what="read.")] == [
        "read.team_members",
        "read.id_document",
        "read.results",
    ]
    assert [e["action"] for e in log.entries(what="admin")] == ["admin.contest-open"]
    combined = log.entries(since=T0 + timedelta(minutes=1), who=alice, what="read")
    assert [e["action"] for e in combined] == ["read.results"]


def test_entries_come_back_after_reopening(sqlite_settings):
    some_entries(AccessLog.open(sqlite_settings))
    assert len(AccessLog.open(sqlite_settings).entries()) == 5


@pytest.mark.parametrize(
    "change",
    [
        {"who": "alice@example.org"},  # a login in clear
        {"subject": "alice@example.org"},
        {"outcome": "maybe"},
        {"action": "Read Team"},
        {"origin": "203.0.113.5"},  # not kind:where
        {"at": datetime(2026, 8, 3, 10, 0)},  # no UTC offset
    ],
)
def test_an_entry_that_could_carry_a_login_or_be_misread_is_refused(sqlite_settings, change):
    log = AccessLog.open(sqlite_settings)
    fields = {
        "who": str(uuid4()),
        "role": "expert",
        "action": "read.report",
        "subject": str(uuid4()),
        "outcome": "ok",
        "origin": WEB,
        "at": T0,
    } | change
    with pytest.raises(AccessLogError):
        log.record(**fields)
    assert log.entries() == []


def test_there_is_no_way_to_delete_or_switch_off_the_access_log():
    public = {name for name in dir(AccessLog) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("delete", "remove", "disable", "off"))}
    assert not any("access" in f and "enable" in f for f in Settings.__dataclass_fields__)


# --- lock-out ---------------------------------------------------------------------------------


def test_four_failures_do_not_lock_and_the_fifth_within_the_window_does(sqlite_settings):
    log = AccessLog.open(sqlite_settings)
    for minute in range(FAILURES_BEFORE_LOCK - 1):
        assert fail(log, minute * 3) is None
    assert log.locked_until(KEY, T0 + timedelta(minutes=10)) is None
    fifth = T0 + timedelta(minutes=14)
    until = fail(log, 14)
    assert until == fifth + LOCK
    assert log.locked_until(KEY, fifth) == until
    assert log.locked_until(KEY, until - timedelta(seconds=1)) == until
    assert log.locked_until(KEY, until) is None  # the lock ends after 15 minutes
    assert log.locked_until("another" + KEY, fifth) is None  # one login, not all of them
    lockouts = log.entries(what="signin.lockout")
    assert len(lockouts) == 1
    assert lockouts[0]["until"] == until
    assert lockouts[0]["subject"] == KEY and lockouts[0]["at"] == fifth
    assert len(log.entries(what="signin")) == FAILURES_BEFORE_LOCK + 1


def test_failures_older_than_the_window_do_not_count(sqlite_settings):
    log = AccessLog.open(sqlite_settings)
    # 0, 4, 8, 12, 16: at 16 the failure at 0 is 16 minutes old, so only four count.
    for minute in (0, 4, 8, 12, 16):
        assert fail(log, minute) is None
    # At 17, the failures at 4, 8, 12, 16 and 17 are five within 15 minutes.
    assert fail(log, 17) == T0 + timedelta(minutes=17) + LOCK


def test_a_success_resets_the_count(sqlite_settings):
    log = AccessLog.open(sqlite_settings)
    account = str(uuid4())
    for minute in range(4):
        fail(log, minute)
    log.sign_in_succeeded(KEY, account, origin=WEB, at=T0 + timedelta(minutes=4))
    for minute in range(5, 9):
        assert fail(log, minute) is None
    assert log.locked_until(KEY, T0 + timedelta(minutes=9)) is None
    assert fail(log, 9) == T0 + timedelta(minutes=9) + LOCK
    successes = log.entries(who=account)
    assert [(e["action"], e["outcome"]) for e in successes] == [("signin", "ok")]


def test_a_locked_login_is_not_let_in_and_the_lock_is_not_extended(sqlite_settings):
    log = AccessLog.open(sqlite_settings)
    for minute in range(5):
        until = fail(log, minute)
    assert until == T0 + timedelta(minutes=4) + LOCK
    assert fail(log, 10) == until  # recorded, not counted, lock unchanged
    account = str(uuid4())
    with pytest.raises(LoginLocked) as refused:
        log.sign_in_succeeded(KEY, account, origin=WEB, at=T0 + timedelta(minutes=11))
    assert refused.value.until == until
    assert [e["outcome"] for e in log.entries(who=account)] == ["refused"]
    assert len(log.entries(what="signin.lockout")) == 1
    assert [e["outcome"] for e in log.entries(since=T0 + timedelta(minutes=10))] == [
        "failed",
        "refused",
    ]
    # After the lock, the count starts again from zero.
    assert fail(log, 20) is None
    log.sign_in_succeeded(KEY, account, origin=WEB, at=T0 + timedelta(minutes=21))
    assert log.locked_until(KEY, T0 + timedelta(minutes=21)) is None


def test_racing_failures_are_all_counted(sqlite_settings, monkeypatch):
    log = AccessLog.open(sqlite_settings)
    for minute in range(3):
        fail(log, minute)
    stale = log._guard(KEY)  # what a second process loaded before the next failure
    fail(log, 3)
    loaded = log._loaded_guard
    handed = iter([stale])
    monkeypatch.setattr(
        log, "_loaded_guard", lambda key, create: next(handed, None) or loaded(key, create)
    )
    assert fail(log, 4) == T0 + timedelta(minutes=4) + LOCK
    assert len(log.entries(what="signin")) == 6


# --- the stream -------------------------------------------------------------------------------


def test_the_access_stream_verifies_and_keeps_its_own_checkpoints(any_settings):
    fill(any_settings, 3)  # some contest history
    contest_rows = count(any_settings, CONTEST)
    log = AccessLog.open(any_settings)
    some_entries(log)
    for minute in range(5):
        fail(log, 10 + minute)
    assert count(any_settings, CONTEST) == contest_rows  # the contest's history is untouched
    access_rows = count(any_settings, ACCESS)
    assert access_rows >= 12
    note = huiyan(any_settings, "ledger", "checkpoint", "--stream", "access")
    assert note.exit_code == 0, note.output
    assert note.output.splitlines()[:2] == ["test/ledger/access", str(access_rows)]
    assert count(any_settings, f"{ACCESS}_checkpoints") == 1
    assert count(any_settings, f"{CONTEST}_checkpoints") == 0  # the schema has both tables
    code, report = verify_access(any_settings)
    assert code == 0
    assert report["size"] == access_rows and report["checkpoints_checked"] == [access_rows]
    contest = huiyan(any_settings, "ledger", "verify", "--json")
    assert contest.exit_code == 0, contest.output
    assert json.loads(contest.output)["size"] == contest_rows
    proof = huiyan(any_settings, "ledger", "proof", "--stream", "access", "2", "--json")
    assert proof.exit_code == 0 and json.loads(proof.output)["tree_size"] == access_rows


def test_a_tampered_access_entry_is_found(any_settings):
    log = AccessLog.open(any_settings)
    some_entries(log)
    huiyan(any_settings, "ledger", "checkpoint", "--stream", "access")
    if any_settings.database_url.startswith("postgresql"):
        sql(any_settings, f"DROP TRIGGER {ACCESS}_append_only ON {ACCESS}")
    sql(
        any_settings,
        f"UPDATE {ACCESS} SET state = :s WHERE position = 2",
        s=b'{"who":"anonymous"}',
    )
    code, report = verify_access(any_settings)
    assert code == 1
    assert report["first_bad_position"] == 2
    assert report["problems"][0]["kind"] == "modified"


def test_the_access_stream_has_its_own_key_that_a_contest_rotation_leaves_alone(sqlite_settings):
    fill(sqlite_settings, 1)
    log = AccessLog.open(sqlite_settings)
    read(log, str(uuid4()), "read.report", str(uuid4()), T0)
    access_keys = huiyan(sqlite_settings, "ledger", "keys", "--stream", "access").output
    contest_keys = keyring_for(sqlite_settings).verifier_keys()
    assert access_keys.startswith("test/ledger/access+")
    assert not set(contest_keys) & {line.split("+")[1] for line in access_keys.splitlines()}
    rotation.rotate(sqlite_settings, operator="ops", reason="yearly")
    # A process started after the rotation still records, and the stream still verifies.
    read(AccessLog.open(sqlite_settings), str(uuid4()), "read.report", str(uuid4()), T0)
    assert verify_access(sqlite_settings)[0] == 0
    assert keyring_for(sqlite_settings).signing_key().key_id not in contest_keys  # rotated
    assert huiyan(sqlite_settings, "ledger", "keys", "--stream", "access").output == access_keys


# --- PostgreSQL: the database refuses edits ---------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        f"DELETE FROM {ACCESS} WHERE position = 1",
        f"UPDATE {ACCESS} SET topic = 'x'",
        f"TRUNCATE {ACCESS}",
    ],
)
def test_postgres_refuses_to_edit_the_access_log(postgres_settings, statement):
    log = AccessLog.open(postgres_settings)
    some_entries(log)
    AccessLog.open(postgres_settings)  # opening again keeps one trigger, without error
    rows = count(postgres_settings, ACCESS)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        sql(postgres_settings, statement)
    assert count(postgres_settings, ACCESS) == rows
    assert verify_access(postgres_settings)[0] == 0


def test_postgres_leaves_the_contest_table_without_the_trigger(postgres_settings):
    fill(postgres_settings, 1)
    AccessLog.open(postgres_settings)
    triggers = sql(
        postgres_settings,
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal",
    )
    assert [name for (name,) in triggers] == [ACCESS]
    sql(postgres_settings, f"DELETE FROM {CONTEST} WHERE position = 1")  # not refused
    assert count(postgres_settings, CONTEST) == 1


def test_the_access_stream_signs_with_a_key_of_its_own_beside_a_provisioned_ledger_key(
    tmp_path,
) -> None:
    """docs/audit.md: the access log has its own key. With the ledger's key provisioned
    (HUIYAN_LEDGER_KEY, as compose and Kubernetes do) it once signed with that one too."""
    provisioned = tmp_path / "ledger.pem"
    provisioned.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = Settings.from_env(
        {"HUIYAN_HOME": str(tmp_path / "home"), "HUIYAN_LEDGER_KEY": str(provisioned)}
    )
    ledger_key = keyring_for(settings).signing_key().verifier.raw
    access_key = keyring_for(access_settings(settings)).signing_key().verifier.raw
    assert access_key != ledger_key
    assert keyring_for(access_settings(settings)).signing_key().verifier.raw == access_key
