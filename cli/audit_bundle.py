"""``huiyan audit export``: write an audit bundle (audit/bundle.py; docs/audit.md).

Who may export what, and what goes in, is services/audit_export.py's (the compliance pages
export through it too): the organiser, the compliance officer and the audit administrator,
any scope; an arbitrator, only ``--appeal`` of an appeal they were drawn for; personal files
only with ``--with-documents``, for the organiser or the compliance officer. Every export,
and every refusal, is in the access log.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from uuid import UUID

import click

from cli.common import refusals_on_one_line, signed_in
from services import audit_export
from services.judging_steps import JudgingDesk


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
    done = audit_export.export(
        jd,
        acting,
        out,
        team_id=team_id,
        appeal_id=appeal_id,
        with_documents=with_documents,
        left_out=partial(click.echo, err=True),
    )
    click.echo(done.describe(out))
