"""The registration part of the README demo: the 2026 contest from its example files, the
published rules, and four teams: two approved, one rejected and resubmitted, one
disqualified by the demo blacklist. It uses the same functions as the CLI commands.

The demo keeps its own timeline in June 2026 (registration is open then), whatever clock
the rest of the demo runs on.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.accounts import Account, Actor, Role
from domain.registration import Registration
from domain.signatures import Manifest, Signer
from domain.time import SHANGHAI
from ledger.blobs import BlobStore
from ledger.settings import Settings
from ledger.vault import Vault
from scoring.rules import parse_rules, rules_sha256
from services import intake, totp
from services.credentials import Credential, seal_credential
from services.personal_keys import sign

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
REHEARSAL_START = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
ORGANISER_LOGIN = "organiser"
ORGANISER_NAME = "Demo Organiser"


def play_registration(
    settings: Settings, registration: Registration, *, start: datetime = REHEARSAL_START
) -> dict[str, Any]:
    vault, blobs = Vault(settings.keys_dir), BlobStore(settings.blobs_dir)
    clock = iter(start + timedelta(minutes=10 * step) for step in range(1000))

    # The demo organiser is a person like any other: a key pair sealed under the password,
    # which signs each decision with legal meaning (domain/signatures.py), and, as their role
    # requires, a TOTP second factor enrolled before they act (`huiyan account enrol-totp`).
    # The password and the TOTP secret (their "phone") go to a 0600 file (demo/cli.py).
    password = secrets.token_urlsafe(12)
    login_key = vault.keyed_hash(ORGANISER_LOGIN)
    account_id = Account.create_id(login_key)
    credential, public_key = Credential.new(ORGANISER_LOGIN, password)
    sealed = seal_credential(vault, blobs, account_id, credential)
    name = json.dumps({"name": ORGANISER_NAME}, ensure_ascii=False).encode()
    registration.open_account(
        login_key=login_key,
        role=Role.ORGANISER,
        credential=sealed,
        actor=None,
        now=next(clock),
        person=vault.seal_to(blobs, account_id, name),
        public_key=public_key.hex(),
    )
    organiser = registration.account(account_id).actor
    totp_secret = totp.new_secret()
    registration.enrol_second_factor(
        credential=seal_credential(
            vault, blobs, account_id, dataclasses.replace(credential, totp_secret=totp_secret)
        ),
        actor=organiser,
        now=next(clock),
    )
    signer = personal_signer(credential, password)

    contest_id = intake.load_contest(EXAMPLES / "contest-2026.yaml").create(
        registration, actor=organiser, now=next(clock)
    )
    rules_data = (EXAMPLES / "rules-2026.yaml").read_bytes()
    parse_rules(rules_data)
    rules_version = registration.publish_rules(
        contest_id,
        sha256=rules_sha256(rules_data),
        blob=blobs.put(rules_data),
        actor=organiser,
        now=next(clock),
        signer=signer,
    )

    def form(name: str) -> UUID:
        """The example team ``name``, its leader ``lead-<name>``, its members' own files."""
        members = [(path.stem, intake.load_member(path))
                   for path in sorted((EXAMPLES / "members").glob(f"{name}-*.yaml"))]  # fmt: skip
        team_id, leaders[name], formed = form_team(
            settings, registration, intake.load_team(EXAMPLES / f"team-{name}.yaml"),
            f"lead-{name}", members, clock,
        )  # fmt: skip
        accounts.extend(formed)
        return team_id

    leaders: dict[str, Signer] = {}
    accounts = [DemoAccount(ORGANISER_LOGIN, "organiser", password, totp_secret)]
    teams = {name: form(name) for name in ("yongjiang", "lijiang", "beibu")}
    for team_id in teams.values():
        registration.submit(team_id, actor=organiser, now=next(clock))
    registration.reject(
        teams["lijiang"],
        reason="The passport scan of member 2 is unreadable; please upload a clearer copy.",
        actor=organiser,
        now=next(clock),
        signer=signer,
    )
    registration.submit(teams["lijiang"], actor=organiser, now=next(clock))

    listing = intake.load_blacklist(EXAMPLES / "blacklist-2026.csv")
    blobs.put(listing.data)
    registration.import_blacklist(
        contest_id,
        source="Credit China",
        sha256=listing.sha256,
        listed_on="2026-06-01",
        entries=listing.entries,
        actor=organiser,
        now=next(clock),
    )
    for team_id in teams.values():
        if not registration.team(team_id).disqualified:
            registration.approve(team_id, actor=organiser, now=next(clock), signer=signer)

    return {
        "contest_id": contest_id,
        "organiser": {"login": ORGANISER_LOGIN, "password": password, "totp": totp_secret},
        "accounts": accounts,  # every person's sign-in, for the served demo (demo/cli.py)
        "rules_version": rules_version,
        # for the judging part of the demo (demo/judging.py): the people who sign there
        "signers": {"organiser": signer},
        "leaders": {teams[name]: leaders[name] for name in teams},  # team id -> their signer
        "teams": {
            registration.team(team_id).name: {
                "id": team_id,
                "status": registration.team(team_id).status.value,
                "disqualified": registration.team(team_id).disqualified,
            }
            for team_id in teams.values()
        },
    }


def form_team(
    settings: Settings,
    registration: Registration,
    team: intake.TeamFile,
    leader_login: str,
    members: list[tuple[str, intake.MemberSpec]],
    clock: Iterator[datetime],
) -> tuple[UUID, Signer, list[DemoAccount]]:
    """A team as its people make it: the leader opens their own account and registers the
    team; each member (login, own record) is invited by e-mail, opens an account and accepts.
    The team's id, the leader's signer and everyone's sign-in."""
    vault, blobs = Vault(settings.keys_dir), BlobStore(settings.blobs_dir)
    leader, signer, password = own_account(registration, vault, blobs, leader_login, next(clock))
    accounts = [DemoAccount(leader_login, "team leader", password)]
    team_id = intake.register_team(
        registration, team, vault=vault, blobs=blobs, actor=leader, now=next(clock)
    )
    leader = registration.account(leader.account_id).actor
    for login, member in members:
        message = intake.invite(
            registration, team_id, member.email or "", vault=vault,
            outbox=settings.home / "outbox", actor=leader, now=next(clock),
        )  # fmt: skip
        person, _, password = own_account(registration, vault, blobs, login, next(clock))
        accounts.append(DemoAccount(login, "team member", password))
        intake.accept(
            registration, intake.invitation_token(message), member, vault=vault,
            blobs=blobs, actor=person, now=next(clock),
        )  # fmt: skip
    return team_id, signer, accounts


@dataclasses.dataclass(frozen=True)
class DemoAccount:
    """A demo person's sign-in, kept (0600, demo/cli.py) so that anyone trying the served
    demo can be them: never anything but a demo's."""

    login: str
    role: str  # as the person would say it: "team leader", "arbitrator"...
    password: str
    totp: str | None = None  # the secret their phone would hold (privileged roles)


def own_account(
    registration: Registration, vault: Vault, blobs: BlobStore, login: str, now: datetime
) -> tuple[Actor, Signer, str]:
    """A participant's own account, as `huiyan account open` opens it, their signer and their
    (random) password."""
    login_key = vault.keyed_hash(login)
    account_id = Account.create_id(login_key)
    password = secrets.token_urlsafe(12)
    credential, public_key = Credential.new(login, password)
    contact = json.dumps({"name": login, "email": f"{login}@people.example"}).encode()
    registration.open_own_account(
        login_key=login_key,
        credential=seal_credential(vault, blobs, account_id, credential),
        person=vault.seal_to(blobs, account_id, contact),
        public_key=public_key.hex(),
        now=now,
    )
    return registration.account(account_id).actor, personal_signer(credential, password), password


def personal_signer(credential: Credential, password: str) -> Signer:
    """Signs a decision's manifest with the person's own key, opened by their password."""
    sealed = credential.signing_key
    if sealed is None:
        raise ValueError(f"{credential.login} holds no signing key")

    def signer(manifest: Manifest) -> str:
        return sign(sealed, password, manifest.payload()).hex()

    return signer


def demo_organiser(registration: Registration, vault: Vault) -> Actor:
    """The demo organiser, as the rest of the demo acts: found by login in the ledger."""
    return registration.account_by_login(vault.keyed_hash(ORGANISER_LOGIN)).actor
