"""``huiyan audit export``: write an audit bundle (audit/bundle.py; docs/audit.md).

Who may export: the organiser, the compliance officer and the audit administrator, any scope;
an arbitrator, only ``--appeal`` of an appeal they were drawn for. Personal files (a team's
documents and member records, technical reports, appeal reasons and evidence) go in only with
``--with-documents``, and only for the organiser or the compliance officer: they are the
roles that may read them elsewhere. Every export, and every refusal, is in the access log
(``read.audit_bundle``, or ``read.audit_bundle.documents`` with personal files).

The export first issues a checkpoint (or reuses the latest, when nothing is new), so the
bundle covers the ledger up to now; the checkpoint signer refuses a ledger that does not
verify, and so then does the export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import click

from audit.bundle import Scope, write_bundle
from audit.matter import appeal_matter, team_matter
from cli.common import refusals_on_one_line, signed_in
from domain.accounts import Actor, Role
from domain.appeals import Appeal
from domain.errors import AppealNotYours, DomainError, NotPermitted
from domain.submissions import Submission
from domain.teams import Team
from ledger.blobs import BlobError
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


@click.command("export")
@click.option("--team", "team_id", type=click.UUID, help="A team's matter.")
@click.option("--appeal", "appeal_id", type=click.UUID, help="An appeal's matter.")
@click.option("--all", "whole", is_flag=True, help="Every entry of the ledger.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The bundle to write (FILE.zip).")  # fmt: skip
@click.option("--with-documents", is_flag=True,
              help="Include personal files (organiser or compliance officer).")  # fmt: skip
@refusals_on_one_line
def export(
    team_id: UUID | None, appeal_id: UUID | None, whole: bool, out: Path, with_documents: bool
) -> None:
    """Write an audit bundle of a team, an appeal or the whole ledger to --out, which anyone
    can check offline with `huiyan-verify`; prints what it holds."""
    if (team_id is not None) + (appeal_id is not None) + whole != 1:
        raise click.UsageError("give exactly one of --team, --appeal and --all")
    if not out.parent.is_dir():
        raise click.UsageError(f"--out: there is no folder {out.parent}")
    jd = JudgingDesk.open()
    acting = signed_in(jd.desk)
    request = _request(jd, team_id, appeal_id)
    action = "read.audit_bundle" + (".documents" if with_documents else "")
    try:
        require_exporter(acting, request, with_documents)
    except DomainError:
        jd.desk.record_access(acting, action, request.scope.label, "refused")
        raise
    head = jd.ledger.issue_checkpoint(jd.desk.now)
    documents = _personal_files(jd, _files(jd, request)) if with_documents else {}
    done = write_bundle(jd.ledger, request.scope, head, out, exporter=acting, now=jd.desk.now,
                        documents=documents)  # fmt: skip
    jd.desk.record_access(acting, action, request.scope.label, "ok")
    scope = request.scope
    what = "the whole ledger" if scope.subject is None else f"{scope.kind} {scope.label}"
    click.echo(
        f"{out}: {what}, {done.entries} entries, "
        f"checkpoint size {done.tree_size}, {done.signatures} personal signatures, "
        f"{len(documents)} personal files"
    )


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


def _personal_files(jd: JudgingDesk, files: Iterable[tuple[UUID, str, str]]) -> dict[str, bytes]:
    """The files unsealed, by bundle name; one that no longer opens (its team's key was
    destroyed: crypto-shredded) is left out, and said so on stderr."""
    desk, opened = jd.desk, {}
    for team_id, sha256, extension in files:
        try:
            opened[f"documents/{sha256}.{extension}"] = desk.vault.open_from(
                desk.blobs, team_id, sha256
            )
        except (VaultError, BlobError) as error:
            click.echo(f"left out documents/{sha256}.{extension}: {error}", err=True)
    return opened
