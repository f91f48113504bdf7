"""The one ``huiyan`` command: it gathers the click groups that live beside what they drive.

This file knows the names of the groups, never their insides (ARCHITECTURE.md rule 8).
"""

from __future__ import annotations

import importlib

import click

# (module, attribute) of every command group or command; each lives in its own package.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("ledger.cli", "ledger"),
    ("demo.cli", "demo"),
    ("cli.signatures", "signatures"),
    ("cli.audit", "audit"),
    ("cli.signatures", "access_log"),
    ("cli.certificate", "certificate"),
    ("cli.retention", "retention"),
    ("cli.registration", "contest"),
    ("cli.registration", "rules"),
    ("cli.people", "login"),
    ("cli.people", "logout"),
    ("cli.people", "whoami"),
    ("cli.people", "account"),
    ("cli.keys", "keys"),
    ("cli.registration", "team"),
    ("cli.registration", "review"),
    ("cli.registration", "blacklist"),
    ("cli.experts", "expert"),
    ("cli.submissions", "submit"),
    ("cli.submissions", "submission"),
    ("cli.submissions", "testset"),
    ("cli.submissions", "debug_phase"),
    ("scoring.cli", "score"),
    ("scoring.synth.cli", "data"),
    ("workers.cli", "worker"),
    ("workers.cli", "dispatcher"),
    ("cli.read_models", "read_models"),
    ("cli.mail", "mail"),
    ("cli.judging", "judging"),
    ("cli.judging", "results"),
    ("cli.appeals", "appeal"),
    ("cli.final", "final"),
    ("cli.serve", "serve_command"),
    ("cli.health", "health"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """huiyan (慧眼): the contest's system of record."""


for module_name, attribute in COMMANDS:
    main.add_command(getattr(importlib.import_module(module_name), attribute))


if __name__ == "__main__":  # python -m huiyan_cli ...
    main()
