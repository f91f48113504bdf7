"""The rules every revision keeps, checked on the database itself while it migrates.

The events tables only ever gain columns: each column they had keeps its name, type and
nullability, and no row goes. Evidence tables never lose a row or a column. (ledger/migrations/
tables.py says which table is which.) :class:`Guard` surveys these tables before the first
revision runs and again after each one, inside the migration's transaction; a revision that
breaks a rule raises :class:`MigrationRefused`, and the whole migration is rolled back.

Reading the database rather than the revision's code catches every way of breaking a rule:
an Alembic operation, raw SQL, SQLite's copy-and-rename batch mode alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ledger.ledger import LedgerError
from ledger.migrations.tables import EVENTS, KEPT


class MigrationRefused(LedgerError):
    """A migration that would break a rule, or a database that is not what the migrations
    take it for; nothing was changed."""


@dataclass(frozen=True)
class TableFacts:
    columns: dict[str, tuple[str, bool]]  # name -> (type as the database declares it, nullable)
    rows: int


def survey(connection: sa.Connection) -> dict[str, TableFacts]:
    """The columns and row count of each events and evidence table present."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    facts = {}
    for name in KEPT:
        if name not in present:
            continue
        columns = {
            column["name"]: (
                str(column["type"].compile(dialect=connection.dialect)),
                bool(column["nullable"]),
            )
            for column in inspector.get_columns(name)
        }
        table = sa.table(name)
        rows = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        facts[name] = TableFacts(columns, rows)
    return facts


def breaches(
    before: dict[str, TableFacts], after: dict[str, TableFacts], revision: str
) -> list[str]:
    """What ``revision`` did that no revision may do, one sentence each."""
    found = []
    for name, was in before.items():
        now = after.get(name)
        if now is None:
            found.append(f"revision {revision} drops table {name}")
            continue
        if now.rows < was.rows:
            found.append(f"revision {revision} loses {was.rows - now.rows} rows of {name}")
        for column, shape in was.columns.items():
            if column not in now.columns:
                found.append(f"revision {revision} drops or renames column {name}.{column}")
            elif name in EVENTS and now.columns[column] != shape:
                found.append(
                    f"revision {revision} changes column {name}.{column} from "
                    f"{_shape(shape)} to {_shape(now.columns[column])}"
                )
    return found


def _shape(shape: tuple[str, bool]) -> str:
    kind, nullable = shape
    return kind + ("" if nullable else " NOT NULL")


class Guard:
    """Alembic's ``on_version_apply`` callback: compares the kept tables after each revision
    with what they were before it."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.facts = survey(connection)

    def __call__(self, *, step: Any, **_: Any) -> None:
        now = survey(self.connection)
        revision = ",".join(step.up_revision_ids) or "?"
        if found := breaches(self.facts, now, revision):
            rule = "events only gain columns; evidence never loses rows (docs/migrations.md)"
            raise MigrationRefused("; ".join(found) + f": refused, nothing changed ({rule})")
        self.facts = now
