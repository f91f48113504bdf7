"""Tables made where missing, by processes that may all start at the same moment.

On a fresh instance a server's workers, the dispatcher and a command can each find a table
missing and create it together: the check and the CREATE are two statements, and the database
refuses all but the first CREATE (PostgreSQL with a unique violation in its catalogue or
"already exists", SQLite with "already exists"). Such a refusal is no error when the table is
there afterwards; any other is raised. Found by bench/system.py: a gunicorn worker's first
page answered 500 because its twin had just made the same read model's table.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa


def create_missing(engine: sa.Engine, tables: Iterable[sa.Table]) -> None:
    """Each of ``tables`` (with its indexes) made where missing, in the order given."""
    for table in tables:
        try:
            table.create(engine, checkfirst=True)
        except sa.exc.DBAPIError:
            if not sa.inspect(engine).has_table(table.name, schema=table.schema):
                raise
