"""The database's schema under Alembic: the revisions (``versions/``), Alembic's environment
(``env.py``), which table is which (``tables.py``), the rules every revision keeps
(``rules.py``) and where a database stands and how it is brought to the head (``run.py``,
``huiyan ledger migrate``). docs/migrations.md is the operator's and the developer's guide.
"""
