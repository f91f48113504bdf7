"""``huiyan expert ...``: enrolling experts, the confidentiality agreement, conflict-of-interest
declarations (docs/people.md, "Experts").

The organiser enrols an expert's account and publishes the agreement's text (stored in the
blob store, recorded by hash). Each expert signs that exact hash and declares, from a file,
the organisations and the people they are tied to; both under their personal signature. A
declared person is named by identity document only: the file's document is normalised like a
team member's (services/identity.py) and only its keyed hash goes on, so it matches the member's
``identity_key`` whatever its spelling and no name or number enters the ledger.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import (
    FILE,
    asked,
    contest_option,
    print_json,
    refusals_on_one_line,
    signed_in,
    signing_options,
)
from domain.accounts import Role
from services import organising
from services.desk import Desk
from services.experts import declare, sign_agreement, ties_of
from services.strict_files import read_yaml


def load_ties(path: Path) -> tuple[list[str], list[str]]:
    """The declared organisations and the declared people's normalised identity documents."""
    return ties_of(path, read_yaml(path))


@click.group()
def expert() -> None:
    """Experts: enrolment, the confidentiality agreement, conflict-of-interest declarations."""


@expert.command("enrol")
@click.argument("login")
@click.option("--field", "fields", multiple=True, required=True, help="A field (repeat).")
@click.option("--organisation", "organisations", multiple=True, required=True,
              help="An organisation the expert works for (repeat).")  # fmt: skip
@contest_option
@refusals_on_one_line
def expert_enrol(
    login: str, fields: tuple[str, ...], organisations: tuple[str, ...], slug: str | None
) -> None:
    """Enrol the expert's account LOGIN with their fields and organisations (the organiser);
    prints the expert's id."""
    desk = Desk.open()
    enrolled = organising.enrol_expert(
        desk,
        signed_in(desk),
        desk.contest(slug).id,
        login,
        fields=list(fields),
        organisations=list(organisations),
    )
    click.echo(enrolled)


@expert.command("agreement")
@click.option("--file", "path", type=FILE, required=True, help="the agreement's text (UTF-8)")
@contest_option
@signing_options
@refusals_on_one_line
def expert_agreement(path: Path, slug: str | None, password_stdin: bool, code: str | None) -> None:
    """Publish the confidentiality agreement (the organiser, signed: published): its text is
    stored and recorded by SHA-256; prints the version and the hash."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = desk.signer(acting, asked(password_stdin, code))
    version, sha256 = organising.publish_agreement(
        desk, acting, desk.contest(slug).id, path, signer
    )
    click.echo(f"{version} {sha256}")


@expert.command("sign-agreement")
@click.option("--sha256", help="The hash of the text you read (default: the version in force).")
@signing_options
@refusals_on_one_line
def expert_sign_agreement(sha256: str | None, password_stdin: bool, code: str | None) -> None:
    """Sign the confidentiality agreement in force (the expert, signed: declared); prints
    its version and hash."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = desk.signer(acting, asked(password_stdin, code))
    version, signed = sign_agreement(desk, acting, sha256, signer)
    click.echo(f"{version} {signed}")


@expert.command("declare")
@click.option("--file", "path", type=FILE, required=True, help="ties.yaml (docs/people.md)")
@signing_options
@refusals_on_one_line
def expert_declare(path: Path, password_stdin: bool, code: str | None) -> None:
    """Declare your conflicts of interest (the expert, signed: declared); it supersedes your
    previous declaration. Prints the declaration's number."""
    desk = Desk.open()
    acting = signed_in(desk)
    organisations, people = load_ties(path)
    signer = desk.signer(acting, asked(password_stdin, code))
    click.echo(declare(desk, acting, organisations, people, signer))


@expert.command("show")
@click.argument("login")
@refusals_on_one_line
def expert_show(login: str) -> None:
    """The expert's enrolment, agreements signed and declaration in force (the organiser),
    in JSON; declared people are counted, never shown."""
    desk = Desk.open()
    acting = signed_in(desk)
    acting.require(Role.ORGANISER, action="read an expert's enrolment")
    found = desk.app.expert(organising.account_id(desk, login))
    current = desk.app.agreement(found.contest_id).current_sha256
    print_json(found.to_record(current))
