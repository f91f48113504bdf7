"""People: signing in, two factors, personal signatures with meaning, the access log.

Everything runs through the ``huiyan`` CLI on a SQLite ledger, as people would use it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from uuid import UUID

import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.accounts import Role
from domain.errors import NotPermitted, SignatureInvalid
from domain.registration import Registration
from domain.signatures import Manifest, check
from ledger.application import open_application
from ledger.settings import Settings
from tests.flows import (
    PASSWORD,
    REGISTRATION_TIME,
    Huiyan,
    approved_team,
    form_team,
)

LATER = "2026-06-20T10:40:00+08:00"  # within the 15 minutes of a lock-out
AFTER_LOCK = "2026-06-20T10:56:00+08:00"


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    return Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


@pytest.fixture
def team(huiyan) -> str:
    return approved_team(huiyan)


def login(huiyan: Huiyan, login: str, password: str, *extra: str, clock: str = REGISTRATION_TIME):
    return huiyan.raw("login", "--login", login, "--password-stdin", *extra,
                      stdin=password + "\n", clock=clock, session=login)  # fmt: skip


def rows(huiyan: Huiyan, sql: str, *args) -> list[tuple]:
    path = huiyan.env["HUIYAN_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def position_of(huiyan: Huiyan, topic_end: str) -> int:
    found = rows(huiyan, "SELECT position FROM ledger_events WHERE topic LIKE ?", f"%{topic_end}")
    assert found, topic_end
    return found[-1][0]


def access_entries(huiyan: Huiyan, what: str) -> list[dict]:
    return [entry for entry in access_log(huiyan) if entry["action"].startswith(what)]


def access_log(huiyan: Huiyan) -> list[dict]:
    settings = Settings.from_env({**huiyan.env})
    from audit.access_log import AccessLog

    return AccessLog.open(settings).entries(since=None, who=None, what=None)


# --- signing in ---------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_recorded(huiyan, team):
    refused = login(huiyan, "organiser", "not the password at all")
    assert refused.exit_code == 2 and "wrong login or password" in refused.output
    unknown = login(huiyan, "nobody-here", "not the password at all")
    assert unknown.exit_code == 2 and "wrong login or password" in unknown.output
    failed = [e for e in access_entries(huiyan, "signin") if e["outcome"] == "failed"]
    assert len(failed) == 2


def test_without_a_session_nothing_privileged_runs(huiyan, team):
    result = huiyan("team", "list", "--json", who=None)
    assert result.exit_code == 2 and "not signed in" in result.output
    # the flag that once made anyone the organiser no longer exists
    flagged = huiyan.raw("team", "list", "--actor", "organiser", session=None)
    assert flagged.exit_code == 2 and "No such option '--actor'" in flagged.output


def test_an_expired_session_is_refused(huiyan, team):
    assert huiyan("team", "list", clock=REGISTRATION_TIME).exit_code == 0
    # 31 minutes later, in the same session, without signing in again
    late = huiyan.raw("team", "list", clock="2026-06-20T10:31:00+08:00", session="organiser")
    assert late.exit_code == 2 and "session ended" in late.output


def test_five_failures_lock_the_login_for_fifteen_minutes(huiyan, team):
    person = huiyan.people["organiser"]
    code = person.code(LATER)
    for _ in range(5):
        assert login(huiyan, "organiser", "wrong password 123", clock=LATER).exit_code == 2
    locked = login(huiyan, "organiser", PASSWORD, "--totp", code, clock=LATER)
    assert locked.exit_code == 2 and "locked until" in locked.output
    assert access_entries(huiyan, "signin.lockout")
    opened = login(huiyan, "organiser", PASSWORD, "--totp", person.code(AFTER_LOCK),
                   clock=AFTER_LOCK)  # fmt: skip
    assert opened.exit_code == 0, opened.output


def test_a_privileged_role_gives_its_totp_code(huiyan, team):
    missing = login(huiyan, "organiser", PASSWORD)
    assert missing.exit_code == 2 and "TOTP code" in missing.output
    wrong = login(huiyan, "organiser", PASSWORD, "--totp", "000000")
    assert wrong.exit_code == 2 and "wrong TOTP code" in wrong.output
    person = huiyan.people["organiser"]
    right = login(huiyan, "organiser", PASSWORD, "--totp", person.code(REGISTRATION_TIME))
    assert right.exit_code == 0, right.output


def test_a_privileged_role_without_a_second_factor_may_only_enrol(huiyan, team):
    huiyan.ok("account", "create", "--login", "arb", "--role", "arbitrator", "--password-stdin",
              stdin=f"{PASSWORD}\n{PASSWORD}\n", clock=REGISTRATION_TIME)  # fmt: skip
    assert login(huiyan, "arb", PASSWORD).exit_code == 0
    acting = huiyan.raw("team", "list", clock=REGISTRATION_TIME, session="arb")
    assert acting.exit_code == 2 and "enrol-totp" in acting.output


def test_a_service_identity_does_system_work_only(huiyan, team, tmp_path):
    settings = Settings.from_env({**huiyan.env})
    app = open_application(Registration, settings)
    from ledger.blobs import BlobStore
    from ledger.vault import Vault
    from services.signin import service_actor

    worker = service_actor(
        app,
        Vault(settings.keys_dir),
        BlobStore(settings.blobs_dir),
        settings.keys_dir / "services" / "worker.key",
    )
    assert worker.role is Role.SERVICE
    with pytest.raises(NotPermitted):
        app.approve(UUID(team), actor=worker, now=datetime(2026, 6, 20, tzinfo=UTC))
    # it cannot sign in as a person either
    secret = (settings.keys_dir / "services" / "worker.key").read_text().split()[1]
    assert login(huiyan, "worker", secret).exit_code == 2
    # a copied key file with another secret proves nothing
    forged = tmp_path / "forged.key"
    forged.write_text("worker not-the-secret\n")
    from services.signin import SignInRefused

    with pytest.raises(SignInRefused):
        service_actor(app, Vault(settings.keys_dir), BlobStore(settings.blobs_dir), forged)


# --- personal signatures ------------------------------------------------------------------------


def approval(huiyan: Huiyan) -> tuple[int, dict, str]:
    """The approval's position, its decoded state, and the organiser's public key (hex)."""
    from audit.signatures import signed_events

    settings = Settings.from_env({**huiyan.env})
    position = position_of(huiyan, "Team.Approved")
    events = signed_events(settings.database_url, settings.events_table)
    found = {event.position: (event, book) for event, book in events}
    event, book = found[position]
    signer = UUID(event.state["personal_signature"]["manifest"]["signer"])
    return position, event, book.in_force(signer, position)


def test_a_signed_approval_verifies_offline_with_the_public_key_alone(huiyan, team):
    position, event, public_key = approval(huiyan)
    record = event.state["personal_signature"]
    manifest = Manifest.from_record(record["manifest"])
    assert manifest.meaning == "approved" and manifest.subject == team
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
        bytes.fromhex(record["signature"]), manifest.payload()
    )
    said = huiyan.ok("signatures", "verify", str(position), who=None)
    assert f"position {position}: verified: approved by" in said
    assert huiyan.ok("ledger", "verify", who=None).startswith("intact")


def test_a_signature_moved_to_another_record_or_a_changed_field_is_refused(huiyan, team):
    position, event, public_key = approval(huiyan)
    record = event.state["personal_signature"]
    where = dict(topic=event.topic, originator_id=event.originator_id, public_key=public_key)
    with pytest.raises(SignatureInvalid, match="another record"):
        check(record, originator_version=event.originator_version + 1, state=event.state,
              **where)  # fmt: skip
    with pytest.raises(SignatureInvalid, match="differs"):
        check(record, originator_version=event.originator_version,
              state={**event.state, "reason": "edited"}, **where)  # fmt: skip


def test_a_wrong_password_signs_nothing(huiyan, team):
    beibu = form_team(huiyan, "beibu")
    huiyan.ok("team", "submit", beibu, clock=REGISTRATION_TIME)
    before = rows(huiyan, "SELECT count(*) FROM ledger_events")[0][0]
    person = huiyan.people["organiser"]
    refused = huiyan("review", "approve", beibu, "--password-stdin", "--totp",
                     person.code(REGISTRATION_TIME), stdin="wrong password here\n",
                     clock=REGISTRATION_TIME)  # fmt: skip
    assert refused.exit_code == 2 and "nothing was signed" in refused.output
    assert rows(huiyan, "SELECT count(*) FROM ledger_events")[0][0] == before


def test_a_forged_personal_signature_is_found_by_verify(huiyan, team):
    """An insider who writes through the application (the ledger signs the row) still cannot
    make a personal signature: verify names the entry."""
    settings = Settings.from_env({**huiyan.env})
    app = open_application(Registration, settings)
    beibu = form_team(huiyan, "beibu")
    huiyan.ok("team", "submit", beibu, clock=REGISTRATION_TIME)
    _, event, _ = approval(huiyan)
    copied = event.state["personal_signature"]
    found = app.team(UUID(beibu))
    organiser = app.account(UUID(copied["manifest"]["signer"]))
    found.approve(by=organiser.id, now=datetime(2026, 6, 20, 3, tzinfo=UTC),
                  personal_signature=copied)  # fmt: skip
    app.save(found)
    forged = position_of(huiyan, "Team.Approved")
    result = huiyan("ledger", "verify", who=None)
    assert result.exit_code == 1
    assert f"personal signature at {forged}" in result.output or (
        "personal signature" in result.output and str(forged) in result.output
    )
    refused = huiyan("signatures", "verify", str(forged), who=None)
    assert refused.exit_code == 1 and "another record" in refused.output


def test_old_signatures_verify_after_a_password_change_and_a_lost_password(huiyan, team):
    position, _, _ = approval(huiyan)
    new_password = "a different long password"
    changed = huiyan("account", "password", "--password-stdin",
                     stdin=f"{PASSWORD}\n{new_password}\n", clock=REGISTRATION_TIME)  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "verified" in huiyan.ok("signatures", "verify", str(position), who=None)
    # the organiser lost that password: another organiser gives a new one and a new key pair
    huiyan.people["organiser"].password = new_password
    huiyan.signed_in_at.clear()  # the change ended the session
    huiyan.account("second", "organiser")
    huiyan.ok("account", "replace-key", "--login", "organiser", "--reason", "lost password",
              "--password-stdin", stdin=f"{PASSWORD}\n", who="second")  # fmt: skip
    huiyan.people["organiser"].password = PASSWORD
    huiyan.signed_in_at.clear()
    assert "verified" in huiyan.ok("signatures", "verify", str(position), who=None)
    # the key the other organiser made is not the person's own: it signs nothing ...
    beibu = form_team(huiyan, "beibu")
    huiyan.ok("team", "submit", beibu, clock=REGISTRATION_TIME)
    refused = huiyan("review", "reject", beibu, "--reason", "blurred", clock=REGISTRATION_TIME)
    assert refused.exit_code == 2 and "[signature.own_key]" in refused.output
    # ... until they set their own password, which gives them a key pair of their own
    huiyan.own_password(huiyan.people["organiser"], REGISTRATION_TIME)
    huiyan.ok("review", "reject", beibu, "--reason", "blurred", clock=REGISTRATION_TIME)
    rejected = position_of(huiyan, "Team.Rejected")
    assert "verified: rejected" in huiyan.ok("signatures", "verify", str(rejected), who=None)
    assert huiyan.ok("ledger", "verify", who=None).startswith("intact")


# --- the access log -----------------------------------------------------------------------------


def test_reading_an_id_document_leaves_an_entry_only_the_audit_administrator_reads(
    huiyan, team, tmp_path
):
    out = tmp_path / "proof.pdf"
    huiyan.ok("team", "document", team, "identity_proof", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    huiyan.account("auditor", "audit_administrator")
    entries = json.loads(huiyan.ok("access-log", "--what", "read.id_document", who="auditor"))
    assert [(e["action"], e["subject"], e["outcome"]) for e in entries] == [
        ("read.id_document", team, "ok")
    ]
    assert entries[0]["origin"].startswith("cli:")
    refused = huiyan("access-log")
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    # there is no command that deletes or switches off the log
    assert huiyan("access-log", "--delete", who="auditor").exit_code == 2
    assert huiyan("access-log", "delete", who="auditor").exit_code == 2
    # reading the log is itself in the log
    assert access_entries(huiyan, "admin.access-log")


def test_the_access_stream_verifies_and_a_tampered_entry_is_found(huiyan, team):
    huiyan.ok("team", "roster", team)
    assert huiyan.ok("ledger", "verify", "--stream", "access", who=None).startswith("intact")
    path = huiyan.env["HUIYAN_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        (position, state) = next(
            (position, state)
            for position, state in conn.execute("SELECT position, state FROM access_events")
            if b"read.team_members" in state
        )
        conn.execute(
            "UPDATE access_events SET state = ? WHERE position = ?",
            (bytes(state).replace(b"read.team_members", b"read.team_memberz"), position),
        )
    tampered = huiyan("ledger", "verify", "--stream", "access", who=None)
    assert tampered.exit_code == 1 and "modified" in tampered.output


def test_a_refused_read_is_recorded_too(huiyan, team):
    huiyan.account("expert-1", "expert")
    refused = huiyan("team", "roster", team, who="expert-1")
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    assert [e["outcome"] for e in access_entries(huiyan, "read.team_members")] == ["refused"]


def test_no_entry_carries_a_login(huiyan, team):
    """Entries carry account ids: a login, a personal identifier, stays out."""
    huiyan.account("alice-auditor", "audit_administrator")
    huiyan.ok("access-log", who="alice-auditor")
    text = json.dumps(access_log(huiyan), default=str)
    assert "signin" in text and "alice-auditor" not in text


def test_whoami_names_the_signed_in_account(huiyan, team):
    shown = json.loads(huiyan.ok("whoami", clock=REGISTRATION_TIME))
    assert shown["role"] == "organiser" and shown["second_factor"] is True
    assert huiyan.ok("logout", clock=REGISTRATION_TIME) == "signed out"
    gone = huiyan.raw("whoami", clock=REGISTRATION_TIME, session="organiser")
    assert gone.exit_code == 2 and "not signed in" in gone.output


def test_a_totp_code_is_good_once_on_the_real_clock(huiyan, team):
    """RFC 6238 §5.2: a code used for a sign-in or a signature is spent (the real clock:
    HUIYAN_CLOCK unset; a frozen rehearsal clock repeats every code, so it cannot apply)."""
    secret = huiyan.people["organiser"].totp_secret
    code = pyotp.TOTP(secret).now()
    first = huiyan.raw("login", "--login", "organiser", "--password-stdin", "--totp", code,
                       stdin=PASSWORD + "\n", clock="", session="real")  # fmt: skip
    assert first.exit_code == 0, first.output
    again = huiyan.raw("login", "--login", "organiser", "--password-stdin", "--totp", code,
                       stdin=PASSWORD + "\n", clock="", session="real")  # fmt: skip
    assert again.exit_code == 2 and "used already" in again.output
    used = access_entries(huiyan, "signin.second_factor")
    assert [entry["outcome"] for entry in used] == ["ok"]


def test_the_signers_printed_name_is_shown_to_those_entitled_only(huiyan, team):
    position, _, _ = approval(huiyan)
    shown = huiyan.ok("signatures", "verify", str(position), "--show-name")
    assert shown.splitlines()[-1] == "printed name: organiser"
    huiyan.account("expert-2", "expert")
    refused = huiyan("signatures", "verify", str(position), "--show-name", who="expert-2")
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    assert "printed name" not in refused.output
    outcomes = [entry["outcome"] for entry in access_entries(huiyan, "read.person_name")]
    assert outcomes == ["ok", "refused"]


def test_the_first_account_is_an_organiser_and_logins_are_plain(tmp_path):
    fresh = Huiyan(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    service = fresh.raw("account", "create", "--login", "worker", "--role", "service",
                        session=None)  # fmt: skip
    assert service.exit_code == 2 and "[account.not_permitted]" in service.output
    assert not (tmp_path / "fresh" / "keys" / "services" / "worker.key").exists()
    spaced = fresh.raw("account", "open", "--login", "two words", "--name", "A", "--email",
                       "a@example.org", "--password-stdin", session=None,
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert spaced.exit_code == 2 and "no spaces" in spaced.output
    hidden = fresh.raw("account", "open", "--login", "ad\u200bmin", "--name", "A", "--email",
                       "a@example.org", "--password-stdin", session=None,
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert hidden.exit_code == 2 and "ZERO WIDTH SPACE" in hidden.output


def test_a_service_key_file_is_never_overwritten(huiyan, team):
    path = huiyan.home / "keys" / "services" / "worker.key"
    before = path.read_text()
    again = huiyan("account", "create", "--login", "worker", "--role", "service")
    assert again.exit_code == 2 and "exists" in again.output
    assert path.read_text() == before


def test_a_decision_written_past_the_desk_without_a_signature_is_found(huiyan, team):
    """An insider who writes an approval through the application with no signature (the row
    itself is validly chained and signed by the ledger) is named by verify."""
    settings = Settings.from_env({**huiyan.env})
    app = open_application(Registration, settings)
    beibu = form_team(huiyan, "beibu")
    huiyan.ok("team", "submit", beibu, clock=REGISTRATION_TIME)
    found = app.team(UUID(beibu))
    found.approve(by=UUID(int=1), now=datetime(2026, 6, 20, 3, tzinfo=UTC))
    app.save(found)
    unsigned = position_of(huiyan, "Team.Approved")
    result = huiyan("ledger", "verify", who=None)
    assert result.exit_code == 1 and "without its maker's signature" in result.output
    refused = huiyan("signatures", "verify", str(unsigned), who=None)
    assert refused.exit_code == 1 and "NOT VERIFIED" in refused.output


def test_a_malformed_recorded_key_is_reported_not_a_crash():
    from audit.signatures import KeyBook, SignedEvent, check_event

    signer = UUID(int=7)
    book = KeyBook()
    book.enrol(signer, 0, "not hex at all")
    manifest = dict(meaning="approved", topic="t", subject=str(UUID(int=8)), version=2,
                    fields={}, signer=str(signer), key_id="k", name=None, at="x")  # fmt: skip
    state = {"personal_signature": {"manifest": manifest, "signature": "00"}}
    event = SignedEvent(5, "t", UUID(int=8), 2, state)
    with pytest.raises(SignatureInvalid, match="malformed"):
        check_event(event, book)


def test_signatures_verify_on_no_ledger_is_one_line(huiyan, tmp_path):
    missing = huiyan("signatures", "verify", "3", "--database-url",
                     f"sqlite:///{tmp_path / 'nothing.sqlite3'}", who=None)  # fmt: skip
    assert missing.exit_code == 2 and "no ledger database" in missing.output
    assert not (tmp_path / "nothing.sqlite3").exists()
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    unusable = huiyan("signatures", "verify", "3", "--database-url", f"sqlite:///{empty}",
                      who=None)  # fmt: skip
    assert unusable.exit_code == 2 and "cannot read the ledger" in unusable.output
