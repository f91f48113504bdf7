"""Alembic's environment for huiyan's database.

Run only through :mod:`ledger.migrations.run`, which opens the connection, takes the migration
lock and begins the one transaction every revision runs in; the connection comes in through
the configuration's attributes (no alembic.ini). The :class:`~ledger.migrations.rules.Guard`
checks the kept tables after each revision.
"""

from alembic import context

from ledger.migrations.rules import Guard

if context.is_offline_mode():
    raise SystemExit("huiyan's migrations run on the database itself (huiyan ledger migrate)")

connection = context.config.attributes["connection"]
context.configure(connection=connection, on_version_apply=Guard(connection))
with context.begin_transaction():
    context.run_migrations()
