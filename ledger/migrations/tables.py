"""Every table of a huiyan database, by what a migration may do to it (docs/migrations.md).

- **Events**: the two signed streams. Their rows are the record itself; a migration may only
  add columns (nullable, or with a default) and indexes. Dropping, renaming or retyping a
  column would change what the signatures, hashes and proofs were made over.
- **Evidence**: rows that are not derived from the events and that an auditor or the mail
  log relies on: checkpoints and witnesses' cosignatures of both streams, the mail log's
  at-most-once claims, the inbox's "read" marks. A migration never loses a row or a column of
  them; it may add columns and indexes, or widen a type.
- **Derived**: rebuilt from the notification log (the read models with their tracking
  positions, the dispatcher's position), or caches (the Merkle trees' stored nodes, the access
  log's snapshots, the standings memo). A migration may drop and remake them: it empties the
  tracking position too, and the next read catches up from the start of the log.

The names are data, not an import of the code that owns each table: ledger/ knows nothing of
the contest, and a migration must keep working whatever the code becomes later.
"""

from __future__ import annotations

EVENTS = ("ledger_events", "access_events")

EVIDENCE = (
    "ledger_events_checkpoints",
    "ledger_events_cosignatures",
    "access_events_checkpoints",
    "access_events_cosignatures",
    "mail_sent",
    "inbox_read",
)

DERIVED = (
    # caches
    "ledger_events_merkle_nodes",
    "access_events_merkle_nodes",
    "accesslog_snapshots",
    "rm_standings_memo",
    # positions in the notification log
    "listings_tracking",
    "judging_tracking",
    "inbox_tracking",
    "dispatcher_tracking",
    "run_durations_tracking",
    # read models (services/read_models.py, services/judging_read_models.py, services/inbox.py,
    # services/run_durations.py)
    "rm_teams",
    "rm_submissions",
    "rm_reviews",
    "rm_review_experts",
    "rm_corrections",
    "rm_appeals",
    "rm_appeal_arbitrators",
    "rm_publications",
    "inbox_teams",
    "inbox_subjects",
    "inbox_messages",
    "rm_run_durations",
)

KEPT = EVENTS + EVIDENCE  # what the migration guard watches (ledger/migrations/rules.py)
