"""Tools of an attacker with SQL access (and sometimes a stolen key), for the tamper tests."""

from __future__ import annotations

import json
from uuid import uuid4

import sqlalchemy as sa

from ledger.entry import chain_hash, entry_leaf_hash, signed_message
from ledger.keys import SigningKey
from ledger.settings import Settings

EVENTS = "ledger_events"
CHECKPOINTS = "ledger_events_checkpoints"
NODES = "ledger_events_merkle_nodes"


def run_sql(settings: Settings, *statements: str, **params) -> None:
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def query(settings: Settings, statement: str, **params) -> list:
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(statement), params).all())
    finally:
        engine.dispose()


def verify(cli, settings: Settings, *args: str) -> tuple[int, dict]:
    """Run ``huiyan ledger verify --json``; the output must be a report, never a traceback."""
    result = cli(settings, "ledger", "verify", "--json", *args)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def first(report: dict) -> tuple[int | None, str]:
    return report["first_bad_position"], report["problems"][0]["kind"]


def append_forged(settings: Settings, key: SigningKey, topic: str, state: bytes) -> int:
    """Append a row at the end, chained and signed by ``key`` as the recorder would."""
    (position, prev, leaf) = query(
        settings,
        f"SELECT position, prev_hash, leaf_hash FROM {EVENTS} ORDER BY position DESC LIMIT 1",
    )[0]
    originator = uuid4()
    new_position = position + 1
    new_prev = chain_hash(bytes(prev), bytes(leaf))
    new_leaf = entry_leaf_hash(new_position, originator, 1, topic, state)
    is_sqlite = settings.database_url.startswith("sqlite")
    run_sql(
        settings,
        f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state, position, "
        "leaf_hash, prev_hash, key_id, signature) VALUES "
        "(:o, 1, :t, :s, :p, :leaf, :prev, :k, :sig)",
        o=originator.bytes if is_sqlite else originator,
        t=topic,
        s=state,
        p=new_position,
        leaf=new_leaf,
        prev=new_prev,
        k=key.key_id,
        sig=key.sign(signed_message(new_leaf, new_prev)),
    )
    return new_position


def copy_row(
    source: int,
    position: int,
    *,
    leaf: str = "leaf_hash",
    signature: str = "signature",
    ident: str | None = None,
) -> str:
    """SQL that copies the row at ``source`` to ``position`` (another originator version, so
    the unique index lets it in), with the given columns for its leaf and signature."""
    id_column, id_value = ("id, ", f"{ident}, ") if ident else ("", "")
    return (
        f"INSERT INTO {EVENTS} ({id_column}originator_id, originator_version, topic, state, "
        "position, leaf_hash, prev_hash, key_id, signature) "
        f"SELECT {id_value}originator_id, originator_version + 100, topic, state, {position}, "
        f"{leaf}, prev_hash, key_id, {signature} FROM {EVENTS} WHERE position = {source}"
    )


def add_checkpoint_row(settings: Settings, note: str) -> None:
    run_sql(
        settings,
        f"INSERT INTO {CHECKPOINTS} (tree_size, root_hash, key_id, note, issued_at) "
        f"SELECT tree_size, root_hash, key_id, :n, issued_at FROM {CHECKPOINTS}",
        n=note,
    )
