"""What the contest's commands share: the one-line refusal with its access-log entry, the
signing options, the contest option, JSON output and asking for a password.

Every privileged command acts as the signed-in person (``huiyan login``, cli/people.py); a
decision with legal meaning is signed with their own key. A refused command prints one line,
``error: <message> [<key>]``, and exits 2 (ledger/console.py).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from domain.accounts import Account, Actor, Role
from domain.errors import DomainError
from domain.time import SHANGHAI
from ledger.console import one_line_errors
from services.desk import Credentials, Desk
from services.refusals import REFUSALS

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


# The person a command acted as, for the access log entry of an administrative action.
_ACTING: ContextVar[tuple[Desk, Actor] | None] = ContextVar("acting", default=None)


def signed_in(desk: Desk) -> Actor:
    """The signed-in person; every privileged command is refused without one."""
    actor = desk.acting()
    _ACTING.set((desk, actor))
    return actor


def read_password(from_stdin: bool, *, prompt: str = "Password", confirm: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def asked(password_stdin: bool, code: str | None) -> Credentials:
    """The console's way to ask for a signature's credentials: the password from stdin or a
    prompt, the TOTP code from ``--totp`` or a prompt when the account has a second factor."""

    def ask(account: Account) -> tuple[str, str | None]:
        password = read_password(password_stdin, prompt="Password (to sign)", confirm=False)
        given = code
        if account.second_factor and not given:
            given = click.prompt("TOTP code", hide_input=False)
        return password, given

    return ask


def _describe(error: BaseException) -> str:
    if isinstance(error, DomainError):
        return f"{error.message('en')} [{error.key}]"
    return str(error)


def refusals_on_one_line(command: Callable[..., Any]) -> Callable[..., Any]:
    """A refused command prints one line and exits 2; an administrative command (anyone but a
    team member acting) leaves an access log entry with its outcome."""
    one_line = one_line_errors(*REFUSALS, describe=_describe)(command)

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _ACTING.set(None)
        outcome = "refused"
        try:
            result = one_line(*args, **kwargs)
            outcome = "ok"
            return result
        finally:
            _record_administration(outcome)
            _ACTING.reset(token)

    return wrapper


def _record_administration(outcome: str) -> None:
    acting_now = _ACTING.get()
    if acting_now is None or acting_now[1].role is Role.TEAM_MEMBER:
        return
    desk, actor = acting_now
    context = click.get_current_context(silent=True)
    # The command's path without the program's own name: "review approve" -> review.approve
    name = ".".join(context.command_path.split()[1:]) if context else "?"
    desk.record_access(actor, f"admin.{name}", "", outcome)


def signing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """A decision with legal meaning is signed: the password again (and the TOTP code)."""
    command = click.option("--totp", "code", help="The TOTP code (prompted when enrolled).")(
        command
    )
    return click.option(
        "--password-stdin", is_flag=True, help="Read the password to sign with from stdin."
    )(command)


def contest_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--contest", "slug", help="Contest slug; optional when there is one.")(
        command
    )


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
