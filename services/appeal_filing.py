"""A team's appeal against a score item (``huiyan appeal file``, the team's appeal page), and
what a reader of an appeal is shown (``appeal list|show``, the web's appeal pages).

The reasons and evidence may name people: they are sealed under the team's key like every team
document, and the event carries their hashes. The appeal is a signed act of the team's leader;
the signer is asked only once the appeal has passed every rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from domain.accounts import Actor, Role
from domain.appeals import Appeal
from domain.errors import AppealNotYours, NotPermitted
from domain.judging_read_models import AppealListing
from domain.signatures import Signer
from services import strict_files
from services.intake import discarded_on_refusal
from services.judging_steps import JudgingDesk
from services.uploads import read_pdf

REASONS_LIMIT = 64 * 1024
MAX_EVIDENCE = 10


def reasons_text(source: Path | str, data: bytes) -> bytes:
    """The reasons as given (UTF-8, not empty, at most REASONS_LIMIT bytes)."""
    if len(data) > REASONS_LIMIT:
        raise strict_files.FileInvalid(source, "(file)", f"longer than {REASONS_LIMIT} bytes")
    if not strict_files.utf8(Path(source), data).strip():
        raise strict_files.FileInvalid(source, "(file)", "empty")
    return data


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
    """Files the leader's appeal against ``item`` of the team's entry in ``track``; the appeal
    as recorded. Every PDF of evidence passes the upload checks first; what was sealed is
    discarded when the appeal is refused."""
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
        written.append(desk.vault.seal_to(desk.blobs, team_id, reasons))
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


def appeal_view(found: Appeal | AppealListing) -> dict[str, Any]:
    """What every reader of an appeal is shown (never the sealed reasons themselves)."""
    return {
        "appeal": found.id,
        "team_id": found.team_id,
        "track": found.track,
        "item": found.item,
        "submission": found.submission_id,
        "status": found.status.value,
        "waiting": found.waiting,
        "arbitrators": found.arbitrators,
        "filed_at": found.filed_at,
        "evidence": len(found.evidence),
        "ruling": None
        if found.ruling is None
        else {k: v for k, v in found.ruling.items() if k != "reasons_sha256"},
        "remedied": found.remedied,
    }


def require_appeal_reader(acting: Actor, found: Appeal | AppealListing) -> None:
    """The organiser, the team's members, and the appeal's own arbitrators."""
    if acting.role is Role.ARBITRATOR:
        if acting.account_id not in found.arbitrators:
            raise AppealNotYours(appeal=found.id)
        return
    acting.require_reader_of(found.team_id, "an appeal")


def appeal_reasons(jd: JudgingDesk, acting: Actor, found: Appeal) -> dict[str, str]:
    """The unsealed reasons (and the ruling's), for a reader already admitted; the read is in
    the access log."""
    desk = jd.desk
    shown = {"reasons": desk.vault.open_from(desk.blobs, found.team_id, found.reasons_sha256)}
    if found.ruling is not None:
        shown["ruling_reasons"] = desk.vault.open_from(
            desk.blobs, found.team_id, found.ruling["reasons_sha256"]
        )
    desk.record_access(acting, "read.appeal", found.id, "ok")
    return {key: value.decode("utf-8") for key, value in shown.items()}
