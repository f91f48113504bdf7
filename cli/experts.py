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
from typing import Annotated

import click
from pydantic import Field

from cli.common import (
    FILE,
    asked,
    contest_option,
    print_json,
    refusals_on_one_line,
    signed_in,
    signing_options,
)
from domain.accounts import Actor, Role
from domain.registration import PANEL
from services import organising
from services.desk import Desk
from services.intake import IdentitySpec, Name
from services.strict_files import Strict, read_yaml, validated

MAX_TIES = 500


class PersonTie(Strict):
    identity: IdentitySpec


class Ties(Strict):
    """ties.yaml: ``organisations: [names]``, ``people: [{identity: {type, number[,
    country]}}]``; both may be empty (a declaration of no tie)."""

    organisations: Annotated[list[Name], Field(max_length=MAX_TIES)] = Field(default_factory=list)
    people: Annotated[list[PersonTie], Field(max_length=MAX_TIES)] = Field(default_factory=list)


def load_ties(path: Path) -> tuple[list[str], list[str]]:
    """The declared organisations and the declared people's normalised identity documents."""
    ties = validated(path, Ties, read_yaml(path))
    return list(ties.organisations), [person.identity.text for person in ties.people]


def identity_keys(desk: Desk, acting: Actor, people: list[str]) -> list[str]:
    """The keyed hashes of the declared people's documents, under the identity secret of the
    expert's contest, as its members' are (after the checks of who may declare: an organiser
    is refused for their role, not for a missing enrolment)."""
    if not people:
        return []
    acting.require(*PANEL, action="declare conflicts of interest")
    contest_id = desk.app.expert(acting.account_id).contest_id
    return [desk.vault.identity_hash(contest_id, person) for person in people]


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
    if sha256 is None:
        acting.require(Role.EXPERT, Role.ARBITRATOR, action="sign the confidentiality agreement")
        mine = desk.app.expert(acting.account_id)
        sha256 = desk.app.agreement(mine.contest_id).current()["sha256"]
    version = desk.app.sign_agreement(
        acting.account_id,
        agreement_sha256=sha256.strip().lower(),
        actor=acting,
        now=desk.now,
        signer=desk.signer(acting, asked(password_stdin, code)),
    )
    click.echo(f"{version} {sha256}")


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
    number = desk.app.declare_ties(
        acting.account_id,
        organisations=organisations,
        identity_keys=identity_keys(desk, acting, people),
        actor=acting,
        now=desk.now,
        signer=desk.signer(acting, asked(password_stdin, code)),
    )
    click.echo(number)


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
