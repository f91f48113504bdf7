"""``huiyan audit witness init|serve|cosign``: run a C2SP tlog-witness (docs/audit.md).

A refusal (the witness will not cosign) prints one line naming its tlog-witness status and
exits 1; input it cannot use (no witness set up, a bad key or file) exits 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from audit.witness import Refusal, Witness, WitnessError
from audit.witness_http import WitnessServer
from ledger.keys import LedgerKeyError, VerifierKey
from ledger.settings import Settings, SettingsError
from ledger.witness_protocol import PATH, AddCheckpoint, ProtocolError


def witness_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """One line on stderr: exit 1 for a refusal, 2 for what the witness cannot work with."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Refusal as refusal:
            click.echo(f"refused ({refusal.status} {refusal.title}): {refusal}", err=True)
            sys.exit(1)
        except (WitnessError, LedgerKeyError, ProtocolError, SettingsError) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)

    return wrapper


folder_option = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The witness's folder: key and state (default: $HUIYAN_HOME/witness).",
)


def open_witness(folder: Path | None) -> Witness:
    settings = Settings.from_env()
    return Witness(folder or settings.witness_dir, settings.now)


@click.group()
def witness() -> None:
    """A C2SP tlog-witness: cosign logs' checkpoints, never two that contradict each other."""


@witness.command()
@click.option("--origin", required=True, help="The log's origin (its checkpoints' first line).")
@click.option(
    "--log-key",
    "log_keys",
    multiple=True,
    required=True,
    help="A verifier key of the log (a vkey line from `huiyan ledger keys`); repeatable.",
)
@click.option("--name", help="The witness's name, e.g. witness.example/w1 (needed the first time).")
@folder_option
@witness_errors
def init(origin: str, log_keys: tuple[str, ...], name: str | None, folder: Path | None) -> None:
    """Set up the witness (its key, 0600, the first time) and trust LOG-KEY for ORIGIN.

    Prints the witness's verifier key: what a log lists in HUIYAN_WITNESSES and an auditor
    passes to `huiyan ledger verify --witness-key`. Running it again adds keys (after the
    log rotated its key) and keeps what the witness cosigned."""
    settings = Settings.from_env()
    keys = [VerifierKey.decode(line) for line in log_keys]
    made = Witness.init(
        folder or settings.witness_dir, settings.now, name=name, origin=origin, log_keys=keys
    )
    click.echo(made.key.verifier.encode())


@witness.command()
@click.option("--port", type=click.IntRange(0, 65535), required=True, help="0: any free port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@folder_option
@witness_errors
def serve(port: int, host: str, folder: Path | None) -> None:
    """Answer tlog-witness POST /add-checkpoint requests until interrupted."""
    the_witness = open_witness(folder)
    try:
        server = WitnessServer(the_witness, (host, port))
    except OSError as error:
        raise WitnessError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    where = f"http://{host}:{server.server_port}"
    click.echo(f"witness {the_witness.key.verifier.encode()} at {where}{PATH}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@witness.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The log's signed checkpoint.",
)
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="'old <size>' and the consistency proof lines (`huiyan ledger consistency SIZE`).",
)
@folder_option
@witness_errors
def cosign(checkpoint_file: Path, proof_file: Path, folder: Path | None) -> None:
    """Do offline, on files, what add-checkpoint does: print the cosignature line, with the
    same checks and the same state as the server."""
    the_witness = open_witness(folder)
    data = proof_file.read_bytes().rstrip(b"\n") + b"\n\n" + checkpoint_file.read_bytes()
    click.echo(the_witness.add_checkpoint(AddCheckpoint.decode(data)), nl=False)
