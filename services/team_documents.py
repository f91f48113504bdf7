"""A team's document upload (``huiyan team upload``, the team's registration page): the PDFs
checked and merged, in order, into the one document of that kind, sealed under the team's key,
and attached; a refused upload leaves no sealed blob behind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from domain.accounts import Actor
from services.desk import Desk
from services.intake import discarded_on_refusal
from services.uploads import read_pdfs


def attach_documents(
    desk: Desk, team_id: UUID, kind: str, paths: Sequence[Path], actor: Actor
) -> None:
    checked = read_pdfs(paths, name=f"{kind}.pdf")
    with discarded_on_refusal(desk.blobs) as written:
        written.append(desk.vault.seal_to(desk.blobs, team_id, checked.data))
        desk.app.attach_document(
            team_id,
            kind,
            ciphertext=written[0],
            size=checked.size,
            pages=checked.pages,
            actor=actor,
            now=desk.now,
        )
