"""The retention record (domain/retention.py) and its desk: the rules of each shredding, checked
with the facts given, refused by key; a decision signed ``shredded`` or not at all."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from helpers import (
    CALENDAR,
    EARLY,
    MODIFICATION_DEADLINE,
    ORGANISER,
    PASSWORD,
    SECOND,
    lead,
    signing_organiser,
)

from domain.accounts import Actor, Role
from domain.errors import (
    AlreadyShredded,
    NotPermitted,
    ReasonRequired,
    RegistrationNotOver,
    RegistrationReviewsPending,
    RetentionNotDue,
    ScreeningUnfinished,
    SignatureRequired,
    StoreKindUnknown,
    TeamNotFound,
)
from domain.registration import Registration
from domain.retention import Retention, store_due
from domain.retention_desk import RetentionDesk, Shredding
from domain.signatures import Manifest, Signer
from services.personal_keys import new_signing_key, sign

BY = uuid4()
CLOSED = CALENDAR.final_end + timedelta(days=1)
SECRET = {"secret_sha256": "5" * 64, "calendar": CALENDAR, "by": BY, "personal_signature": None}


def record() -> Retention:
    return Retention(contest_id=uuid4())


def secret(retention: Retention, **facts) -> None:
    given = {"reviews_pending": 0, "unfinished_screenings": [], "now": CLOSED, **facts}
    retention.shred_secret(**SECRET, **given)


def store(retention: Retention, kind: str = "models", *, days: int = 180, **facts) -> None:
    given = {"hashes": ["a" * 64], "missing": [], "now": CLOSED + timedelta(days=days), **facts}
    retention.shred_store(kind, calendar=CALENDAR, days=days, by=BY, personal_signature=None,
                          **given)  # fmt: skip


def test_the_identity_secret_waits_for_the_last_registration_check():
    retention = record()
    with pytest.raises(RegistrationNotOver) as early:
        secret(retention, now=MODIFICATION_DEADLINE - SECOND)
    assert early.value.facts == {"deadline": MODIFICATION_DEADLINE}
    with pytest.raises(RegistrationReviewsPending) as pending:
        secret(retention, now=MODIFICATION_DEADLINE, reviews_pending=2)
    assert pending.value.facts == {"count": 2}
    with pytest.raises(ScreeningUnfinished) as unfinished:
        secret(retention, now=MODIFICATION_DEADLINE, unfinished_screenings=[3])
    assert unfinished.value.facts == {"lists": [3]}
    assert retention.secret is None and len(retention.pending_events) == 1  # Opened only
    secret(retention, now=MODIFICATION_DEADLINE)
    assert retention.secret == {"secret_sha256": "5" * 64, "by": BY, "at": MODIFICATION_DEADLINE}
    with pytest.raises(AlreadyShredded):
        secret(retention)


def test_a_stored_kind_goes_when_its_period_has_run():
    retention = record()
    due = store_due(CALENDAR, 180)
    assert due == CALENDAR.final_end + timedelta(days=180)
    with pytest.raises(RetentionNotDue) as early:
        store(retention, now=due - SECOND)
    assert early.value.facts == {"kind": "models", "due": due}
    store(retention, now=due, hashes=["b" * 64, "a" * 64], missing=["c" * 64])
    event = retention.pending_events[-1]
    assert (event.hashes, event.missing, event.due) == (["a" * 64, "b" * 64], ["c" * 64], due)
    assert retention.shredded("models") == {"a" * 64, "b" * 64, "c" * 64}
    assert retention.shredded("predictions") == set()
    with pytest.raises(AlreadyShredded):
        store(retention, hashes=["d" * 64, "c" * 64])
    with pytest.raises(AlreadyShredded):
        store(retention, hashes=[])
    with pytest.raises(StoreKindUnknown):
        store(retention, "reports")
    store(retention, "testsets", days=0, now=CALENDAR.final_end, hashes=["a" * 64])


def test_a_team_is_shredded_once_and_for_a_reason():
    retention, team = record(), uuid4()

    def shred(reason: str) -> None:
        retention.shred_team(team, key_sha256="6" * 64, reason=reason, by=BY, now=EARLY,
                             personal_signature=None)  # fmt: skip

    with pytest.raises(ReasonRequired):
        shred("  ")
    shred(" erasure request ")
    assert retention.teams[team] == {"key_sha256": "6" * 64, "reason": "erasure request",
                                     "by": BY, "at": EARLY}  # fmt: skip
    with pytest.raises(AlreadyShredded):
        shred("again")


class Desk(Registration, RetentionDesk):
    """Both desks on one in-memory store (on the ledger they share the one events table)."""


def compliance_officer(app: Desk) -> tuple[Actor, Signer]:
    account_id = app.open_account(login_key="hmac-compliance", role=Role.COMPLIANCE_OFFICER,
                                  credential="c" * 64, actor=ORGANISER, now=EARLY,
                                  person="d" * 64,
                                  public_key=new_signing_key(PASSWORD)[0].hex())  # fmt: skip
    actor = app.account(account_id).actor
    public_key, sealed = new_signing_key(PASSWORD)
    app.take_own_key(credential="e" * 64, public_key=public_key.hex(), actor=actor, now=EARLY)
    return actor, lambda manifest: sign(sealed, PASSWORD, manifest.payload()).hex()


def test_the_desk_signs_every_shredding_or_records_none():
    app = Desk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    organiser, organiser_signs = signing_organiser(app)
    from helpers import new_contest

    contest_id = new_contest(app)
    team_id, _ = lead(app, contest_id, "a")
    officer, officer_signs = compliance_officer(app)
    asked: list[Manifest] = []

    def counting(manifest: Manifest) -> str:
        asked.append(manifest)
        return officer_signs(manifest)

    both = Shredding(teams={team_id: "6" * 64}, secret=True, reason="erasure")
    with pytest.raises(NotPermitted):
        app.prepare(contest_id, both, actor=organiser, now=CLOSED, signer=organiser_signs)
    with pytest.raises(SignatureRequired):
        app.prepare(contest_id, both, actor=officer, now=CLOSED, signer=None)
    with pytest.raises(TeamNotFound):
        app.prepare(contest_id, Shredding(teams={uuid4(): None}, reason="x"), actor=officer,
                    now=CLOSED, signer=counting)  # fmt: skip
    # A blacklist screening cut short: refused before anything is signed.
    entries = [{"name": "某公司", "code": None}]
    app.list_reader = lambda sha256: entries
    blacklist = app.blacklist(contest_id)
    number = blacklist.import_list(source="Credit China", sha256="7" * 64, listed_on="2026-06-01",
                                   entries=entries, by=organiser.account_id, now=EARLY)  # fmt: skip
    blacklist.start_screening(number, [team_id], by=organiser.account_id, now=EARLY)
    app.save(blacklist)
    with pytest.raises(ScreeningUnfinished):
        app.prepare(contest_id, both, actor=officer, now=CLOSED, signer=counting)
    assert asked == [] and not app._exists(Retention.create_id(contest_id))

    app.resume_screening(contest_id, actor=organiser, now=EARLY)
    prepared = app.prepare(contest_id, both, actor=officer, now=CLOSED, signer=counting)
    assert not app._exists(Retention.create_id(contest_id))  # nothing saved until recorded
    app.record(prepared)
    stored = app.retention(contest_id)
    assert set(stored.teams) == {team_id} and stored.secret["secret_sha256"] is None
    assert [m.meaning for m in asked] == ["shredded", "shredded"]
    assert [m.topic.rsplit(".", 1)[-1] for m in asked] == ["TeamShredded", "SecretShredded"]
    assert all(m.signer == str(officer.account_id) for m in asked)
    assert app.closing_problem(contest_id, CLOSED) is None
    assert app.closing_problem(contest_id, CALENDAR.final_end - SECOND).key == (
        "retention.contest_not_over"
    )
    assert isinstance(UUID(str(stored.id)), UUID)
