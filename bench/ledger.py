"""Ledger benchmark: what the chain costs on writes, how fast verify runs. Prints, asserts nothing.

    .venv/bin/python -m bench.ledger [--postgres URL] [--rounds 5] [--verify-events 100000]

For each database (a SQLite file, and PostgreSQL when a URL is given) it appends through the
plain eventsourcing-sqlalchemy recorder and through huiyan's chaining recorder, in alternating
rounds on the same database, for 1-event and 100-event transactions, and prints events/s and
the ratio (chained / plain; targets >= 0.85 and >= 0.6). Then it verifies a ledger of
``--verify-events`` events with every core, in the same run as it measures this machine's
single-core Ed25519 verification rate (before and after, averaged): verify is bounded by
Ed25519, so its figure is printed beside the ceiling (that rate x cores used; target >= 0.9
of it) and the ``--no-signatures`` pass beside its own target (>= 250,000 events/s).
Proof times at 10^6 events are measured by bench/merkle.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder

from ledger.keys import Keyring
from ledger.persistence import ChainingApplicationRecorder, LedgerDatastore
from ledger.verify import verify_ledger

STATE = b'{"team_id":"5f0c2b1e8d7a4c3b9e6f1a2d3c4b5a69","track":1,"sha256":"' + b"ab" * 32 + b'"}'


def batches(size: int, count: int) -> list[list[StoredEvent]]:
    return [
        [StoredEvent(uuid4(), 1, "domain.registration:Team.Registered", STATE) for _ in range(size)]
        for _ in range(count)
    ]


def rate(append, work: list[list[StoredEvent]]) -> float:
    started = time.perf_counter()
    for batch in work:
        append(batch)
    return sum(len(b) for b in work) / (time.perf_counter() - started)


def compare(url: str, keys_dir: Path, rounds: int) -> list[tuple[str, float, float]]:
    plain = SQLAlchemyApplicationRecorder(
        SQLAlchemyDatastore(url=url), events_table_name="plain_events"
    )
    plain.create_table()
    chained = ChainingApplicationRecorder(
        LedgerDatastore(url=url),
        keyring=Keyring(keys_dir, "bench/ledger"),
        events_table_name="ledger_events",
    )
    chained.create_table()
    rows = []
    for size, count in ((1, 1_000), (100, 40)):
        plain_rates, chained_rates = [], []
        for _ in range(rounds):
            plain_rates.append(rate(plain.insert_events, batches(size, count)))
            chained_rates.append(rate(chained.insert_events, batches(size, count)))
        rows.append(
            (f"{size}-event txns", statistics.median(plain_rates), statistics.median(chained_rates))
        )
    plain.datastore.engine.dispose()
    chained.datastore.engine.dispose()
    return rows


def fill(url: str, keys_dir: Path, events: int) -> Keyring:
    keyring = Keyring(keys_dir, "bench/ledger")
    recorder = ChainingApplicationRecorder(
        LedgerDatastore(url=url), keyring=keyring, events_table_name="verify_events"
    )
    recorder.create_table()
    for batch in batches(500, events // 500):
        recorder.insert_events(batch)
    recorder.datastore.engine.dispose()
    return keyring


def verify_rate(url: str, keyring: Keyring, events: int, signatures: bool) -> float:
    started = time.perf_counter()
    report = verify_ledger(
        url, keyring.verifier_keys(), table="verify_events", signatures=signatures
    )
    elapsed = time.perf_counter() - started
    assert report.intact and report.size == events, report.problems[:3]
    return events / elapsed


def personal_pass_rate(url: str, events: int) -> float:
    """The extra pass `huiyan ledger verify` makes for personal signatures (a byte filter on
    every row; these synthetic events carry none, so this is its floor cost)."""
    from audit.signatures import personal_signature_problems

    started = time.perf_counter()
    problems = personal_signature_problems(url, "verify_events")
    elapsed = time.perf_counter() - started
    assert not problems
    return events / elapsed


def ed25519_verify_rate(count: int = 5_000) -> float:
    """What one core does with Ed25519 verification alone: the ceiling verify works under.
    Distinct messages, as in a ledger (one message verified again and again runs faster)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    messages = [b"huiyan-ledger-sig/v1\n" + os.urandom(64) for _ in range(count)]
    signed = [(key.sign(message), message) for message in messages]
    public = key.public_key()
    started = time.perf_counter()
    for signature, message in signed:
        public.verify(signature, message)
    return count / (time.perf_counter() - started)


def parallel_ed25519_rate(processes: int, count: int = 5_000) -> float:
    """Ed25519 verifications/s with ``processes`` processes at once: what this machine's
    cores really deliver together (on a shared virtual machine, less than rate x cores)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        return sum(pool.map(ed25519_verify_rate, [count] * processes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="postgresql+psycopg:// URL of an empty database")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--verify-events", type=int, default=100_000)
    parser.add_argument("--verify-only", action="store_true", help="Skip the write comparison.")
    parser.add_argument(
        "--fast-repeat", type=int, default=1, help="Runs of the --no-signatures pass to print."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys_dir = Path(tmp) / "keys"
        databases = [("SQLite (file, WAL)", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        if args.postgres:
            databases.append(("PostgreSQL", args.postgres))
        print(f"cores: {os.cpu_count()}, rounds: {args.rounds} (median)")
        print(
            f"{'database':<20} {'workload':<16} {'plain ev/s':>11} {'huiyan ev/s':>12} {'ratio':>6}"
        )
        for name, url in [] if args.verify_only else databases:
            for workload, plain, chained in compare(url, keys_dir, args.rounds):
                ratio = chained / plain
                print(f"{name:<20} {workload:<16} {plain:>11,.0f} {chained:>12,.0f} {ratio:>6.2f}")
        cores = os.cpu_count() or 1
        for name, url in databases:
            keyring = fill(url, keys_dir, args.verify_events)
            events = f"{args.verify_events:,} events"
            before = ed25519_verify_rate()
            full = verify_rate(url, keyring, args.verify_events, signatures=True)
            after = ed25519_verify_rate()
            together = parallel_ed25519_rate(cores)
            fast = sorted(
                verify_rate(url, keyring, args.verify_events, signatures=False)
                for _ in range(args.fast_repeat)
            )
            one_core = (before + after) / 2
            ceiling = one_core * cores
            print(
                f"verify {name}, {events}: {full:,.0f} events/s; Ed25519 alone "
                f"{one_core:,.0f}/s on one core (before {before:,.0f}, after {after:,.0f}), "
                f"ceiling {ceiling:,.0f}/s on {cores} cores: {full / ceiling:.2f} of it "
                "(target >= 0.90); "
                f"{cores} processes of Ed25519 alone do {together:,.0f}/s together: "
                f"{full / together:.2f} of that"
            )
            runs = " / ".join(f"{rate:,.0f}" for rate in fast)
            print(f"verify {name}, {events}, --no-signatures: {runs} events/s (target >= 250,000)")
            personal = personal_pass_rate(url, args.verify_events)
            print(f"verify {name}, {events}, personal-signature pass: {personal:,.0f} events/s")
        if args.postgres:
            engine = sa.create_engine(args.postgres)
            with engine.begin() as conn:
                for table in ("plain_events", "ledger_events", "verify_events"):
                    conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            engine.dispose()


if __name__ == "__main__":
    main()
