"""Tables made where missing by processes that start together (ledger/tables.py): another
process making the same table between our look and our CREATE is no error; a real refusal
still is. Found by bench/system.py: a gunicorn worker's first page answered 500 because its
twin had just made the same read model's table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger.persistence import LedgerDatastore
from ledger.read_models import SQLView
from ledger.tables import create_missing


class Notes(SQLView):
    """A read model of one table with an index, enough to race for."""

    def __init__(self, url: str) -> None:
        super().__init__(LedgerDatastore(url=url), tracking_table_name="notes_tracking")
        sa.Table("notes", self.metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("at", sa.String(40), index=True))  # fmt: skip


@pytest.fixture(params=["postgres_url", "sqlite_url"])
def url(request) -> str:
    return request.getfixturevalue(request.param)


def test_a_table_another_process_made_between_our_look_and_our_create_is_no_error(url, monkeypatch):
    ours, theirs = Notes(url), Notes(url)
    create = sa.Table.create

    def raced(table, bind, checkfirst=False):
        if table.name != "notes":
            return create(table, bind, checkfirst=checkfirst)
        monkeypatch.setattr(sa.Table, "create", create)  # only the first look races
        create(theirs.metadata.tables["notes"], theirs.datastore.engine, checkfirst=True)
        return create(table, bind, checkfirst=False)  # we had looked: nothing was there

    monkeypatch.setattr(sa.Table, "create", raced)
    ours.create_table()
    inspected = sa.inspect(ours.datastore.engine)
    assert {"notes", "notes_tracking"} <= set(inspected.get_table_names())
    assert [index["column_names"] for index in inspected.get_indexes("notes")] == [["at"]]
    for view in (ours, theirs):
        view.datastore.engine.dispose()


def test_a_real_refusal_is_still_raised(url):
    engine = sa.create_engine(url)
    broken = sa.Table("broken", sa.MetaData(), sa.Column("id", sa.Integer),
                      sa.CheckConstraint("this is not ( sql"))  # fmt: skip
    with pytest.raises(sa.exc.DBAPIError):
        create_missing(engine, [broken])
    assert not sa.inspect(engine).has_table("broken")
    engine.dispose()
