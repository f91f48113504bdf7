"""A team's appeal against a score item (``huiyan appeal file``, the team's appeal page).
Who may read an appeal and what they are shown is services/arbitration.py.

The reasons and evidence may name people: they are sealed under the team's key like every team
document, and the event carries their hashes. The appeal is a signed act of the team's leader;
the signer is asked only once the appeal has passed every rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from domain.accounts import Actor, Role
from domain.appeals import Appeal
from domain.errors import NotPermitted
from domain.signatures import Signer
from services import strict_files
from services.arbitration import checked_reasons
from services.intake import discarded_on_refusal
from services.judging_steps import JudgingDesk
from services.uploads import read_pdf

MAX_EVIDENCE = 10


def file_appeal(
    jd: JudgingDesk,
    acting: Actor,
    track: int,
    *,
    item: str,
    reasons: bytes,
    evidence: Sequence[Path] = (),
    signer: Signer,
) -> Appeal:
    """Files the leader's appeal against ``item`` of the team's entry in ``track`` (``reasons``:
    the text, checked here); the appeal as recorded. Every PDF of evidence passes the upload
    checks first; what was sealed is discarded when the appeal is refused."""
    acting.require(Role.TEAM_MEMBER, action="appeal")
    if acting.team_id is None:
        raise NotPermitted(role=acting.role.value, action="appeal without a team")
    team_id = acting.team_id
    acting.require_leader_of(team_id, action="appeal")
    if len(evidence) > MAX_EVIDENCE:
        raise strict_files.FileInvalid("evidence", "(files)", f"at most {MAX_EVIDENCE} files")
    desk = jd.desk
    checked = [read_pdf(path).data for path in evidence]
    contest_id = jd.judging.team(team_id).contest_id
    rules = jd.rules(contest_id)[0].appeals
    with discarded_on_refusal(desk.blobs) as written:
        written += [desk.vault.seal_to(desk.blobs, team_id, data) for data in checked]
        sealed = list(written)
        written.append(desk.vault.seal_to(desk.blobs, team_id, checked_reasons(reasons)))
        appeal_id = jd.judging.file_appeal(
            team_id,
            track,
            item=item,
            reasons_sha256=written[-1],
            evidence=sealed,
            items=rules.items,
            window_days=rules.window_days,
            one_per_item=rules.one_per_item,
            arbitrators=rules.arbitrators,
            actor=acting,
            now=desk.now,
            signer=signer,
        )
    return jd.judging.appeal(appeal_id)
