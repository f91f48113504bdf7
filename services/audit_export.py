"""Audit bundles as every face asks for them (``huiyan audit export`` and the compliance pages):
who may export what, the matter a scope names, the personal files that go in, and the bundle
written by audit/bundle.py (docs/audit.md).

Who may export: the organiser, the compliance officer and the audit administrator, any scope;
an arbitrator, only an appeal they were drawn for. Personal files (a team's documents and
member records, technical reports, appeal reasons and evidence) go in only on request, and only
for the organiser or the compliance officer. Every export, and every refusal, is in the access
log (``read.audit_bundle``, or ``read.audit_bundle.documents`` with personal files).

The export first issues a checkpoint (or reuses the latest, when nothing is new), so the
bundle covers the ledger up to now; the checkpoint signer refuses a ledger that does not
verify, and so then does the export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from audit.bundle import Exported, Scope, write_bundle
from audit.matter import appeal_matter, team_matter
from domain.accounts import Actor, Role
from domain.appeals import Appeal
from domain.errors import AppealNotYours, DomainError, NotPermitted
from domain.submissions import Submission
from domain.teams import Team
from ledger.blobs import BlobError
from ledger.ledger import Ledger
from ledger.vault import VaultError
from services.judging_steps import JudgingDesk
from services.read_models import listings

EXPORTERS = (Role.ORGANISER, Role.COMPLIANCE_OFFICER, Role.AUDIT_ADMINISTRATOR, Role.ARBITRATOR)
DOCUMENT_EXPORTERS = (Role.ORGANISER, Role.COMPLIANCE_OFFICER)


@dataclass(frozen=True)
class Request:
    """A scope, with the appeal or team it names (the permission and the personal files
    depend on them)."""

    scope: Scope
    appeal: Appeal | None = None
    team: Team | None = None


def require_exporter(actor: Actor, request: Request, with_documents: bool) -> None:
    """Raises a DomainError unless ``actor`` may export ``request`` (with personal files)."""
    actor.require(*EXPORTERS, action="export an audit bundle")
    if actor.role is Role.ARBITRATOR:
        if request.scope.kind != "appeal":
            raise NotPermitted(role=actor.role.value, action="export more than an appeal")
        if request.appeal is None or actor.account_id not in request.appeal.arbitrators:
            raise AppealNotYours(appeal=request.scope.subject)
    if with_documents:
        actor.require(*DOCUMENT_EXPORTERS, action="export personal files")


@dataclass(frozen=True)
class Done:
    """What an export wrote: the bundle's figures, its scope and the personal files in it."""

    exported: Exported
    scope: Scope
    documents: int

    def describe(self, out: Path) -> str:
        scope = self.scope
        what = "the whole ledger" if scope.subject is None else f"{scope.kind} {scope.label}"
        done = self.exported
        return (
            f"{out}: {what}, {done.entries} entries, "
            f"checkpoint size {done.tree_size}, {done.signatures} personal signatures, "
            f"{self.documents} personal files"
        )


def export(
    jd: JudgingDesk,
    acting: Actor,
    out: Path,
    *,
    team_id: UUID | None = None,
    appeal_id: UUID | None = None,
    with_documents: bool = False,
    left_out: Callable[[str], None] = lambda _: None,
) -> Done:
    """Write the bundle of a team's matter, an appeal's, or (neither given) the whole ledger to
    ``out``, as ``acting``; a refusal is a DomainError, recorded in the access log.
    ``left_out`` hears of each personal file that no longer opens (crypto-shredded)."""
    request = _request(jd, team_id, appeal_id)
    action = "read.audit_bundle" + (".documents" if with_documents else "")
    try:
        require_exporter(acting, request, with_documents)
    except DomainError:
        jd.desk.record_access(acting, action, request.scope.label, "refused")
        raise
    # Signed with the keys on disk now (a face's long-lived ledger may predate a rotation).
    head = Ledger.from_settings(jd.desk.settings).issue_checkpoint(jd.desk.now)
    files = _files(jd, request) if with_documents else []
    documents = _personal_files(jd, files, left_out)
    done = write_bundle(jd.ledger, request.scope, head, out, exporter=acting, now=jd.desk.now,
                        documents=documents)  # fmt: skip
    jd.desk.record_access(acting, action, request.scope.label, "ok")
    return Done(done, request.scope, len(documents))


def _request(jd: JudgingDesk, team_id: UUID | None, appeal_id: UUID | None) -> Request:
    app = jd.judging
    if team_id is not None:
        team = app.team(team_id)
        return Request(Scope("team", team.id, tuple(team_matter(app, team))), team=team)
    if appeal_id is not None:
        found = app.appeal(appeal_id)
        return Request(Scope("appeal", found.id, tuple(appeal_matter(app, found))), appeal=found)
    return Request(Scope("all"))


def _files(jd: JudgingDesk, request: Request) -> list[tuple[UUID, str, str]]:
    """(team, sealed sha256, extension) of each personal file the scope's events name."""
    app = jd.judging
    if request.team is not None:
        return _team_files(jd, request.team)
    if request.appeal is not None:
        found, same = request.appeal, (request.appeal.team_id, request.appeal.track)
        files = _submission_files(app.submission(found.submission_id))
        for other in app.appeals(found.contest_id):
            if (other.team_id, other.track) == same:
                files += _appeal_files(other)
        return files
    return [
        item
        for contest in jd.desk.app.contests()
        for listed in listings(app).teams(contest.id)
        for item in _team_files(jd, app.team(listed.id))
    ]


def _team_files(jd: JudgingDesk, team: Team) -> list[tuple[UUID, str, str]]:
    """A team's personal files: its documents, its members' records, its submissions'
    technical reports, its appeals' reasons, evidence and rulings' reasons."""
    files = [(team.id, document["ciphertext"], "pdf") for document in team.documents.values()]
    files += [(team.id, member["record"], "json") for member in team.members]
    app = jd.judging
    for listed in listings(app).submissions(team_id=team.id):
        files += _submission_files(app.submission(listed.id))
    for appealed in app.appeals(team.contest_id):
        if appealed.team_id == team.id:
            files += _appeal_files(appealed)
    return files


def _submission_files(found: Submission) -> list[tuple[UUID, str, str]]:
    return [(found.team_id, found.report_sha256, "pdf")]


def _appeal_files(found: Appeal) -> list[tuple[UUID, str, str]]:
    files = [(found.team_id, found.reasons_sha256, "txt")]
    files += [(found.team_id, sha256, "pdf") for sha256 in found.evidence]
    if found.ruling is not None:
        files.append((found.team_id, found.ruling["reasons_sha256"], "txt"))
    return files


def _personal_files(
    jd: JudgingDesk, files: Iterable[tuple[UUID, str, str]], left_out: Callable[[str], None]
) -> dict[str, bytes]:
    """The files unsealed, by bundle name; one that no longer opens (its team's key was
    destroyed: crypto-shredded) is left out, and ``left_out`` told so."""
    desk, opened = jd.desk, {}
    for team_id, sha256, extension in files:
        try:
            opened[f"documents/{sha256}.{extension}"] = desk.vault.open_from(
                desk.blobs, team_id, sha256
            )
        except (VaultError, BlobError) as error:
            left_out(f"left out documents/{sha256}.{extension}: {error}")
    return opened
