"""A person opens their own team-member account (``huiyan account open``, the web's sign-up):
anyone may, and nobody opens one for them [四: each participant registers].

The contact they give is checked by the same schema as everywhere (services/intake.py) and
sealed under the account's own key; the ledger sees only the login's keyed hash, the sealed
record's hash and the public half of the signing key made under their password.
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from domain.accounts import Account
from services import intake, strict_files
from services.credentials import Credential, check_login, seal_credential
from services.desk import Desk


def open_own_account(
    desk: Desk,
    *,
    login: str,
    name: str,
    email: str,
    phone: str | None,
    password: str,
    source: str = "account open",
) -> UUID:
    """Checks the login and contact, makes the key pair under ``password`` and opens the
    account; its id. ``source`` names the form or command in a refusal."""
    check_login(login)
    contact = strict_files.validated(
        Path(source),
        intake.ContactSpec,
        {"name": name, "email": email, **({"phone": phone} if phone else {})},
    )
    login_key = desk.vault.keyed_hash(login)
    account_id = Account.create_id(login_key)
    credential, key = Credential.new(login, password)
    if not desk.vault.has_key(account_id):
        desk.vault.create_key(account_id)
    record = json.dumps(contact.model_dump(exclude_none=True), ensure_ascii=False).encode()
    return desk.app.open_own_account(
        login_key=login_key,
        credential=seal_credential(desk.vault, desk.blobs, account_id, credential),
        person=desk.vault.seal_to(desk.blobs, account_id, record),
        public_key=key.hex(),
        now=desk.now,
    )
