"""Builders for domain tests: the 2026 calendar, a small contest, members, and an organiser
who signs their decisions with a real key pair."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.accounts import Account, Actor, Role
from domain.contest import Calendar, Quota
from domain.registration import Registration
from domain.signatures import Manifest, Signer
from domain.teams import Member
from domain.time import SHANGHAI
from web.personal_keys import new_signing_key, sign

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


def member(person: str, *, leader: bool = False, organisation: str = "广西大学") -> Member:
    return Member(
        identity_key=f"hmac-{person}",
        record=f"{person:0>64}"[-64:],
        organisation=organisation,
        leader=leader,
    )


def roster(*people: str, organisation: str = "广西大学") -> list[Member]:
    return [
        member(person, leader=index == 0, organisation=organisation)
        for index, person in enumerate(people)
    ]


def named_team(app: Registration, contest_id, name: str, *people: str):
    """A team of these people under this name, registered early."""
    return app.register_team(
        contest_id,
        team_id=uuid4(),
        name=name,
        language="zh",
        members=roster(*people),
        actor=ORGANISER,
        now=EARLY,
    )


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


def ready_team(app: Registration, contest_id, *people: str, now: datetime = EARLY):
    """A registered team with language, a track and an identity proof: ready to submit."""
    team_id = app.register_team(
        contest_id,
        team_id=uuid4(),
        name=f"team {'-'.join(people)}",
        language="zh",
        members=roster(*people),
        actor=ORGANISER,
        now=now,
    )
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
