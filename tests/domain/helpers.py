"""Builders for domain tests: the 2026 calendar, a small contest, members, teams formed the
way people form them (own accounts, the leader registers and invites, each person accepts),
and an organiser who signs their decisions with a real key pair."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.accounts import Account, Actor, Role
from domain.contest import Calendar, Quota
from domain.registration import Registration
from domain.signatures import Manifest, Signer
from domain.teams import Member
from domain.time import SHANGHAI
from services.personal_keys import new_signing_key, sign

REGISTRATION_DEADLINE = datetime(2026, 6, 26, tzinfo=SHANGHAI)
MODIFICATION_DEADLINE = datetime(2026, 6, 30, 18, tzinfo=SHANGHAI)
PRELIMINARY_START = datetime(2026, 8, 1, tzinfo=SHANGHAI)
EARLY = datetime(2026, 6, 1, 9, tzinfo=SHANGHAI)
SECOND = timedelta(seconds=1)

CALENDAR = Calendar(
    registration_deadline=REGISTRATION_DEADLINE,
    modification_deadline=MODIFICATION_DEADLINE,
    preliminary_start=PRELIMINARY_START,
    preliminary_end=datetime(2026, 10, 1, tzinfo=SHANGHAI),
    final_start=datetime(2026, 10, 12, tzinfo=SHANGHAI),
    final_end=datetime(2026, 10, 19, tzinfo=SHANGHAI),
    review_sla_days=5,
    appeal_window_days=5,
)
GROUPS = [
    {"id": "self_owned", "name": {"zh": "自带模型组", "en": "Self-owned model"}},
    {"id": "self_built", "name": {"zh": "自建模型组", "en": "Self-built model"}},
]
TRACKS = [
    {
        "id": 1,
        "name": {"zh": "基于CT的肺癌智能检测", "en": "Lung cancer detection on CT"},
        "image_roles": ["ct_plain", "ct_arterial", "ct_venous"],
        "groups": ["self_owned", "self_built"],
    },
    {
        "id": 7,
        "name": {"zh": "基于超声的甲状腺癌智能检测", "en": "Thyroid cancer detection, ultrasound"},
        "image_roles": ["us"],
        "groups": ["self_owned", "self_built"],
    },
]
# The organiser's account id follows from its login key, so that ``signing_organiser`` opens
# exactly this account in a desk and the decisions it signs are ORGANISER's.
ORGANISER_LOGIN = "hmac-organiser"
ORGANISER = Actor(account_id=Account.create_id(ORGANISER_LOGIN), role=Role.ORGANISER)
PASSWORD = "correct horse battery staple"
# Codes with valid check digits (GB 32100-2015).
LISTED_CODE = "91450100MA5KXXXXXR"


def member(
    person: str,
    *,
    leader: bool = False,
    organisation: str = "广西大学",
    code: str | None = None,
) -> Member:
    """The record a person registers or accepts with; the identity key follows from
    ``person``, so the same ``person`` twice is the same human being."""
    return Member(
        identity_key=f"hmac-{person}",
        record=f"{person:0>64}"[-64:],
        organisation=organisation,
        organisation_code=code,
        leader=leader,
    )


Person = str | Member


def _as_member(person: Person, organisation: str) -> Member:
    return person if isinstance(person, Member) else member(person, organisation=organisation)


def own_account(app: Registration, person: str = "someone", *, now: datetime = EARLY) -> Actor:
    """A person opens their own team-member account (a fresh login each call, so one human
    being may hold two accounts); their actor, in no team yet."""
    account_id = app.open_own_account(
        login_key=f"hmac-login-{person}-{uuid4().hex[:8]}",
        credential="c" * 64,
        person="d" * 64,
        public_key=public_key(),
        now=now,
    )
    return app.account(account_id).actor


def actor_of(app: Registration, actor: Actor) -> Actor:
    """The actor as their account now stands (team and leadership after joining)."""
    return app.account(actor.account_id).actor


def lead(
    app: Registration,
    contest_id,
    person: Person,
    *,
    name: str | None = None,
    language: str | None = "zh",
    organisation: str = "广西大学",
    now: datetime = EARLY,
) -> tuple[UUID, Actor]:
    """``person`` opens their own account and registers a team they lead, alone; the team's
    id and the leader's actor as it stands after registering."""
    leading = _as_member(person, organisation)
    actor = own_account(app, leading.identity_key, now=now)
    team_id = app.register_team(
        contest_id,
        team_id=uuid4(),
        name=name if name is not None else f"team {leading.identity_key}",
        language=language,
        leader=leading,
        actor=actor,
        now=now,
    )
    return team_id, actor_of(app, actor)


def invite(app: Registration, team_id, leader: Actor, *, now: datetime = EARLY) -> str:
    """The leader invites someone; the token's hash, which the invited person accepts with."""
    token_hash = f"token-{uuid4().hex}"
    app.invite(team_id, token_hash=token_hash, email_key="hmac-mail", actor=leader, now=now)
    return token_hash


def accept(
    app: Registration,
    token_hash: str,
    person: Person,
    *,
    organisation: str = "广西大学",
    actor: Actor | None = None,
    now: datetime = EARLY,
) -> Actor:
    """``person`` accepts with their own account (a new one unless ``actor``); their actor
    as it stands after joining."""
    joining = _as_member(person, organisation)
    actor = actor or own_account(app, joining.identity_key, now=now)
    app.accept(token_hash=token_hash, member=joining, actor=actor, now=now)
    return actor_of(app, actor)


def join(
    app: Registration,
    team_id,
    leader: Actor,
    person: Person,
    *,
    organisation: str = "广西大学",
    now: datetime = EARLY,
) -> Actor:
    """The leader invites ``person``, who opens their own account and accepts."""
    token_hash = invite(app, team_id, leader, now=now)
    return accept(app, token_hash, person, organisation=organisation, now=now)


def form_team(
    app: Registration,
    contest_id,
    *people: Person,
    name: str | None = None,
    language: str | None = "zh",
    organisation: str = "广西大学",
    now: datetime = EARLY,
):
    """A team formed the way people form one: the first person opens their own account and
    registers the team, then each other person is invited by the leader and accepts."""
    first, *others = people
    default = "team " + "-".join(_as_member(p, organisation).identity_key for p in people)
    team_id, leader = lead(
        app,
        contest_id,
        first,
        name=name if name is not None else default,
        language=language,
        organisation=organisation,
        now=now,
    )
    for person in others:
        join(app, team_id, leader, person, organisation=organisation, now=now)
    return team_id


def leader_of(app: Registration, team_id) -> Actor:
    """The team's leader as their account stands."""
    (leading,) = [m for m in app.team(team_id).members if m["leader"]]
    return app.account(leading["account_id"]).actor


def account_of(app: Registration, team_id, person: str) -> Actor:
    """The actor of the member ``person`` of the team, as their account stands."""
    (found,) = [m for m in app.team(team_id).members if m["identity_key"] == f"hmac-{person}"]
    return app.account(found["account_id"]).actor


def named_team(app: Registration, contest_id, name: str, *people: Person):
    """A team of these people under this name, formed early."""
    return form_team(app, contest_id, *people, name=name)


def new_contest(app: Registration, *, slug: str = "huiyan-2026") -> object:
    return app.create_contest(
        slug=slug,
        name={
            "zh": "全国医保影像AI识图大赛",
            "en": "Healthcare Security AI Image Recognition Contest",
        },
        groups=GROUPS,
        tracks=TRACKS,
        calendar=CALENDAR,
        quota=Quota(per_day=3, total=50),
        actor=ORGANISER,
        now=EARLY,
    )


def ready_team(app: Registration, contest_id, *people: Person, now: datetime = EARLY):
    """A formed team with language, a track and an identity proof: ready to submit."""
    team_id = form_team(app, contest_id, *people, now=now)
    app.enter_track(team_id, 1, "self_owned", actor=ORGANISER, now=now)
    app.attach_document(
        team_id,
        "identity_proof",
        ciphertext="ab" * 32,
        size=1000,
        pages=2,
        actor=ORGANISER,
        now=now,
    )
    return team_id


def race_to_accept(home: str, url: str, contest_id, people, barrier) -> str:
    """One side of a race in its own process: forms a team of all but the last person, has
    the leader invite the last one, waits for the other process, then the last person
    accepts at the same moment. "joined", or the refusal's key."""
    from pathlib import Path

    from ledger_scenario import open_registration

    from domain.errors import DomainError

    app = open_registration(Path(home), url)
    *formers, last = people
    team_id = form_team(app, contest_id, *formers, name=f"racer {'-'.join(people)}")
    token_hash = invite(app, team_id, leader_of(app, team_id))
    actor = own_account(app, last)
    barrier.wait()
    try:
        accept(app, token_hash, last, actor=actor)
    except DomainError as error:
        return error.key
    return "joined"


def public_key() -> str:
    """A fresh personal public key (hex), for an account that signs nothing in the test."""
    return Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()


def signing_organiser(
    app: Registration,
    *,
    login_key: str = ORGANISER_LOGIN,
    by: Actor | None = None,
    password: str = PASSWORD,
    now: datetime = EARLY,
) -> tuple[Actor, Signer]:
    """Opens an organiser account in ``app`` with a fresh key pair sealed under ``password``
    (the bootstrap account unless ``by`` opens it); its actor (ORGANISER by default) and a
    signer that signs a decision's manifest with that key."""
    public_key, sealed = new_signing_key(password)
    account_id = app.open_account(
        login_key=login_key,
        role=Role.ORGANISER,
        credential="c" * 64,
        actor=by,
        now=now,
        person="d" * 64,
        public_key=public_key.hex(),
    )

    def signer(manifest: Manifest) -> str:
        return sign(sealed, password, manifest.payload()).hex()

    return app.account(account_id).actor, signer
