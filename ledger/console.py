"""What every click group shares on the console: refusals on one line, and progress on long
steps (the demo, the dispatcher, a submission, a ledger verification).

A refused command prints ``error: <message>`` on stderr and exits 2, whichever group it
belongs to: :func:`one_line_errors` is the one place that does it, given the errors a group's
operator can act on and, where a kind reads better otherwise, how to describe it.

Progress: a person watching a terminal wants to see that a long step moves, while a
script reads the command's result from stdout and a CI log wants no redraw noise. So the
display goes to stderr only, and only when stderr is a terminal and no JSON was asked for;
otherwise the caller gets :class:`QuietProgress`, a twin that takes the same calls and writes
nothing at all. Callers use one small interface either way::

    with progress_display(as_json=as_json) as bar:
        task = bar.add_task("verify", total=None)
        bar.update(task, completed=done, total=size)
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def one_line_errors(
    *refusals: type[BaseException], describe: Callable[[BaseException], str] = str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator: the named errors become one line on stderr and exit status 2; anything
    else is a bug and keeps its traceback."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except refusals as error:
                click.echo(f"error: {describe(error)}", err=True)
                sys.exit(2)

        return wrapper

    return decorate


class QuietProgress:
    """What a non-terminal or ``--json`` run gets: rich's ``Progress`` calls, doing nothing."""

    def __enter__(self) -> QuietProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def add_task(self, description: str, total: float | None = 100.0, **fields: Any) -> TaskID:
        return TaskID(0)

    def update(self, task_id: TaskID, **changes: Any) -> None:
        return None

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        return None


def progress_display(
    *, as_json: bool = False, console: Console | None = None
) -> Progress | QuietProgress:
    """A live progress display on stderr for a person at a terminal, else a silent twin.

    ``console`` is for tests (a ``Console(force_terminal=True, file=StringIO())``); by default
    the console is stderr, and only when stderr is a terminal.
    """
    if as_json:
        return QuietProgress()
    console = console if console is not None else _terminal_console()
    if console is None or not console.is_terminal:
        return QuietProgress()
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        # rich would otherwise route stdout through the display: stdout is the result's.
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _terminal_console() -> Console | None:
    """A console on stderr when stderr itself is a terminal (rich alone would also say yes to
    FORCE_COLOR in a CI log, where a redrawn bar is only noise)."""
    if not sys.stderr.isatty():
        return None
    return Console(stderr=True)
