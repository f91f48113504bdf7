"""The registration part of the README demo: the 2026 contest from its example files, the
published rules, and four teams: two approved, one rejected and resubmitted, one
disqualified by the demo blacklist. It uses the same functions as the CLI commands.

The demo keeps its own timeline in June 2026 (registration is open then), whatever clock
the rest of the demo runs on.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from domain.accounts import Account, Role
from domain.registration import Registration
from domain.time import SHANGHAI
from ledger.blobs import BlobStore
from ledger.settings import Settings
from ledger.vault import Vault
from scoring.rules import parse_rules, rules_sha256
from web import intake
from web.passwords import hash_password

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
REHEARSAL_START = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
ORGANISER_LOGIN = "organiser"


def play_registration(
    settings: Settings, registration: Registration, *, start: datetime = REHEARSAL_START
) -> dict[str, Any]:
    vault, blobs = Vault(settings.keys_dir), BlobStore(settings.blobs_dir)
    clock = iter(start + timedelta(minutes=10 * step) for step in range(1000))

    password = secrets.token_urlsafe(12)
    login_key = vault.keyed_hash(ORGANISER_LOGIN)
    account_id = Account.create_id(login_key)
    vault.create_key(account_id)
    credential = json.dumps({"login": ORGANISER_LOGIN, "password": hash_password(password)})
    registration.open_account(
        login_key=login_key,
        role=Role.ORGANISER,
        credential=vault.seal_to(blobs, account_id, credential.encode()),
        actor=None,
        now=next(clock),
    )
    organiser = registration.account(account_id).actor

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
    )

    def register(name: str) -> Any:
        team = intake.load_team(EXAMPLES / f"team-{name}.yaml")
        return intake.register_team(
            registration, team, vault=vault, blobs=blobs, actor=organiser, now=next(clock)
        )

    teams = {name: register(name) for name in ("yongjiang", "lijiang", "beibu")}
    for team_id in teams.values():
        registration.submit(team_id, actor=organiser, now=next(clock))
    registration.reject(
        teams["lijiang"],
        reason="The passport scan of member 2 is unreadable; please upload a clearer copy.",
        actor=organiser,
        now=next(clock),
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
            registration.approve(team_id, actor=organiser, now=next(clock))

    return {
        "contest_id": contest_id,
        "organiser": {"login": ORGANISER_LOGIN, "password": password},
        "rules_version": rules_version,
        "teams": {
            registration.team(team_id).name: {
                "id": team_id,
                "status": registration.team(team_id).status.value,
                "disqualified": registration.team(team_id).disqualified,
            }
            for team_id in teams.values()
        },
    }
