"""Reading an appeal and an arbitrator's work on it, shared by the console (cli/appeals.py)
and the browser (web/arbitrator.py, web/team_results.py): who may read an appeal, its view,
the reasons unsealed, the matter's replay, a re-score from the recorded inputs, and the signed
ruling. Filing one is services/appeal_filing.py.

Each step takes the acting person and checks them itself, so both faces refuse the same
people the same way: the organiser reads every appeal, a team's members their own team's, an
arbitrator only the appeals they were drawn for.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from audit.matter import appeal_matter, timeline
from audit.rescore import RescoreFailed, rescore
from domain.accounts import Actor, Role
from domain.appeals import Appeal
from domain.errors import AppealNotYours
from domain.judging_read_models import AppealListing
from domain.signatures import Signer
from services.errors import ServiceRefused
from services.judging_steps import JudgingDesk

REASONS_LIMIT = 64 * 1024


def appeal_view(found: Appeal | AppealListing) -> dict[str, Any]:
    """What ``appeal list`` and ``appeal show`` print of an appeal (the ruling without the
    hash of its sealed reasons)."""
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


def require_readable(acting: Actor, found: Appeal | AppealListing) -> None:
    """The organiser, the team's members, and the appeal's own arbitrators."""
    if acting.role is Role.ARBITRATOR:
        if acting.account_id not in found.arbitrators:
            raise AppealNotYours(appeal=found.id)
        return
    acting.require_reader_of(found.team_id, "an appeal")


def arbitrating(jd: JudgingDesk, acting: Actor, appeal_id: UUID) -> Appeal:
    """The appeal, for its drawn arbitrators and the organiser (replay, re-score)."""
    found = jd.judging.appeal(appeal_id)
    if acting.role is Role.ORGANISER:
        return found
    acting.require(Role.ARBITRATOR, action="replay an appeal")
    if acting.account_id not in found.arbitrators:
        raise AppealNotYours(appeal=found.id)
    return found


def reasons(jd: JudgingDesk, acting: Actor, found: Appeal) -> tuple[str, str | None]:
    """The appeal's reasons and the ruling's, unsealed (each read is in the access log)."""
    require_readable(acting, found)
    desk = jd.desk
    filed = desk.vault.open_from(desk.blobs, found.team_id, found.reasons_sha256).decode("utf-8")
    ruled = None
    if found.ruling is not None:
        sealed = found.ruling["reasons_sha256"]
        ruled = desk.vault.open_from(desk.blobs, found.team_id, sealed).decode("utf-8")
    desk.record_access(acting, "read.appeal", found.id, "ok")
    return filed, ruled


def checked_reasons(data: bytes) -> bytes:
    """An appeal's or a ruling's reasons as given: UTF-8 text, not empty, at most 64 KiB."""
    if len(data) > REASONS_LIMIT:
        raise ServiceRefused(f"the reasons are longer than {REASONS_LIMIT} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceRefused("the reasons are not UTF-8 text") from None
    if not text.strip():
        raise ServiceRefused("the reasons are empty")
    return data


def seal_reasons(jd: JudgingDesk, team_id: UUID, data: bytes) -> str:
    """The reasons, checked, sealed under the team's key (they may name people); their hash."""
    return jd.desk.vault.seal_to(jd.desk.blobs, team_id, checked_reasons(data))


def replay(jd: JudgingDesk, acting: Actor, appeal_id: UUID) -> list[dict[str, Any]]:
    """The matter's events in ledger order with the status of every signature."""
    found = arbitrating(jd, acting, appeal_id)
    return timeline(jd.ledger, appeal_matter(jd.judging, found))


def rescore_appeal(
    jd: JudgingDesk, acting: Actor, appeal_id: UUID, rules_version: int | None = None
) -> dict[str, Any]:
    """The appealed entry re-scored from its recorded inputs under its own rules version (or
    the one named): ``same_bytes``, or the figures that differ. Records nothing."""
    found = arbitrating(jd, acting, appeal_id)
    submission = jd.judging.submission(found.submission_id)
    version = rules_version or submission.rules_version
    document = jd.rules_document(found.contest_id, version)[0]
    try:
        outcome = rescore(jd.desk.settings, submission, document)
    except RescoreFailed as error:
        raise ServiceRefused(str(error)) from None
    jd.desk.record_access(acting, "read.rescore", submission.id, "ok")
    return {"rules_version": version, **outcome.as_json()}


def remedy_value(text: str) -> bool | float:
    """A corrected value as people write it: true/false (the gates), else a number."""
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    try:
        return float(text)
    except ValueError:
        raise ServiceRefused(f"the value {text!r} is not a number or true/false") from None


def rule(
    jd: JudgingDesk,
    acting: Actor,
    appeal_id: UUID,
    *,
    outcome: str,
    remedy: str | None,
    rules_version: int | None,
    value: str | None,
    reasons_text: bytes,
    signer: Signer,
) -> str:
    """Rules on an appeal the arbitrator was drawn for (signed ``ruled``); its new status."""
    found = jd.judging.appeal(appeal_id)
    ordered: dict[str, Any] | None = None
    if remedy is not None:
        ordered = {"kind": remedy}
        if rules_version is not None:
            ordered["rules_version"] = rules_version
        if value is not None:
            ordered["value"] = remedy_value(value)
    jd.judging.rule(
        appeal_id,
        outcome=outcome,
        remedy=ordered,
        reasons_sha256=seal_reasons(jd, found.team_id, reasons_text),
        remedies=jd.rules(found.contest_id)[0].appeals.remedies,
        actor=acting,
        now=jd.desk.now,
        signer=signer,
    )
    return jd.judging.appeal(appeal_id).status.value
