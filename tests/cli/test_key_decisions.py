"""Rotating and revoking the ledger's key: the ledger's act, and the organiser's decision
behind it under their personal signature."""

from __future__ import annotations

import sqlite3

import pytest

from ledger.ledger import keyring_for
from ledger.settings import Settings
from tests.flows import PASSWORD, REGISTRATION_TIME, Huiyan

AT = {"clock": REGISTRATION_TIME}


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    huiyan.account("organiser", "organiser")
    return huiyan


def active_key(huiyan: Huiyan) -> str:
    return keyring_for(Settings.from_env(dict(huiyan.env))).signing_key().key_id


def position_of(huiyan: Huiyan, topic_end: str) -> int:
    path = huiyan.env["HUIYAN_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT position FROM ledger_events WHERE topic LIKE ? ORDER BY position",
            (f"%{topic_end}",),
        ).fetchall()
    assert rows, topic_end
    return rows[-1][0]


def test_a_rotation_is_the_organisers_signed_decision(huiyan):
    first = active_key(huiyan)
    said = huiyan.ok("keys", "rotate", "--reason", "yearly rotation", **AT)
    second = active_key(huiyan)
    assert second != first and said == f"key {first} retired, new active key {second}"
    decision = position_of(huiyan, "KeyDecisions.Rotated")
    assert decision > position_of(huiyan, "KeyHistory.HandedOver")
    verified = huiyan.ok("signatures", "verify", str(decision), who=None)
    assert "verified: rotated by" in verified
    assert huiyan.ok("ledger", "verify", who=None).startswith("intact")


def test_a_wrong_password_or_a_missing_reason_changes_no_key(huiyan):
    first = active_key(huiyan)
    person = huiyan.people["organiser"]
    wrong = huiyan("keys", "rotate", "--reason", "x", "--password-stdin", "--totp",
                   person.code(REGISTRATION_TIME), stdin="not my password\n", **AT)  # fmt: skip
    assert wrong.exit_code == 2 and "nothing was signed" in wrong.output
    bare = huiyan("keys", "rotate", "--password-stdin", stdin=PASSWORD + "\n", **AT)
    assert bare.exit_code == 2 and "give --reason" in bare.output
    assert active_key(huiyan) == first


def test_only_an_organiser_changes_keys(huiyan):
    first = active_key(huiyan)
    huiyan.account("auditor", "audit_administrator")
    refused = huiyan("keys", "rotate", "--reason", "x", who="auditor", **AT)
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    nobody = huiyan("keys", "rotate", "--reason", "x", who=None, **AT)
    assert nobody.exit_code == 2 and "not signed in" in nobody.output
    assert active_key(huiyan) == first


def test_a_revocation_is_declared_under_signature_and_verify_flags_the_key(huiyan):
    compromised = active_key(huiyan)
    refused = huiyan("keys", "revoke", compromised, "--from", "0", "--reason", "leak", **AT)
    assert refused.exit_code == 2 and "is the active key" in refused.output
    assert refused.output.count("\n") == 1
    huiyan.ok("keys", "rotate", "--reason", "leak", **AT)
    huiyan.ok("keys", "revoke", compromised, "--from", "3", "--reason", "leak", **AT)
    decision = position_of(huiyan, "KeyDecisions.Revoked")
    assert "verified: declared by" in huiyan.ok("signatures", "verify", str(decision), who=None)
    flagged = huiyan("ledger", "verify", who=None)
    assert flagged.exit_code == 1 and "revoked key" in flagged.output
