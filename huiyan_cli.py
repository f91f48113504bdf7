"""The one ``huiyan`` command: it gathers the click groups that live beside what they drive.

This file knows the names of the groups, never their insides (ARCHITECTURE.md rule 8).
"""

from __future__ import annotations

import importlib

import click

# (module, attribute) of every command group or command; each lives in its own package.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("ledger.cli", "ledger"),
    ("audit.demo", "demo"),
    ("audit.cli", "signatures"),
    ("audit.audit_cli", "audit"),
    ("audit.cli", "access_log"),
    ("audit.certificate_cli", "certificate"),
    ("audit.retention_cli", "retention"),
    ("web.cli", "contest"),
    ("web.cli", "rules"),
    ("web.people_cli", "login"),
    ("web.people_cli", "logout"),
    ("web.people_cli", "whoami"),
    ("web.people_cli", "account"),
    ("web.keys_cli", "keys"),
    ("web.cli", "team"),
    ("web.cli", "review"),
    ("web.cli", "blacklist"),
    ("web.experts_cli", "expert"),
    ("web.submissions_cli", "submit"),
    ("web.submissions_cli", "submission"),
    ("web.submissions_cli", "testset"),
    ("web.submissions_cli", "debug_phase"),
    ("scoring.cli", "score"),
    ("scoring.synth.cli", "data"),
    ("workers.cli", "worker"),
    ("workers.cli", "dispatcher"),
    ("web.read_models_cli", "read_models"),
    ("web.judging_cli", "judging"),
    ("web.judging_cli", "results"),
    ("web.appeals_cli", "appeal"),
    ("web.final_cli", "final"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """huiyan (慧眼): the contest's system of record."""


for module_name, attribute in COMMANDS:
    main.add_command(getattr(importlib.import_module(module_name), attribute))
