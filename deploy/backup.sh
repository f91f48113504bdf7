#!/usr/bin/env bash
# Back up a huiyan instance, or restore one and prove the restore (docs/operations.md,
# "Backup and restore"). Reads HUIYAN_HOME and HUIYAN_DATABASE_URL (PostgreSQL), as huiyan does.
#
#   deploy/backup.sh backup DIR
#     DIR/checkpoint.note  a checkpoint issued now, cosigned by HUIYAN_WITNESSES: keep a copy
#                          outside DIR (the witnesses keep their own)
#     DIR/ledger.dump      pg_dump -Fc of the database (ledger, read models, side tables)
#     DIR/files.tar        HUIYAN_HOME's files: blobs, models, test sets, predictions, records
#     DIR/keys.tar         the private keys: move it to a separate, encrypted place at once
#
#   deploy/backup.sh restore DIR KEYS_TAR KEPT_CHECKPOINT [huiyan ledger verify options]
#     into an empty database and an empty HUIYAN_HOME, then `huiyan ledger verify --checkpoint
#     KEPT_CHECKPOINT`: exit 0 when the restored ledger holds the history that checkpoint
#     signed, 1 when it does not (a dump older than the checkpoint), 2 when it cannot tell.
set -euo pipefail

die() { echo "backup.sh: $*" >&2; exit 2; }

home=${HUIYAN_HOME:?HUIYAN_HOME is not set}
url=${HUIYAN_DATABASE_URL:?HUIYAN_DATABASE_URL is not set}
[[ $url == postgresql+psycopg://* ]] || die "HUIYAN_DATABASE_URL is not PostgreSQL (SQLite: copy the file with sqlite3's .backup)"
pg_url=${url/postgresql+psycopg:/postgresql:}
# Folders that are not backed up with the files: the keys (keys.tar), and what is transient.
not_files=(keys access/keys witness runs cache uploads sessions)

backup() {
  local dir=$1 key_dirs=()
  umask 077
  mkdir -p "$dir"
  huiyan ledger checkpoint >"$dir/checkpoint.note"
  pg_dump --format=custom --file="$dir/ledger.dump" "$pg_url"
  tar -C "$home" "${not_files[@]/#/--exclude=./}" -cf "$dir/files.tar" .
  for folder in keys access/keys witness; do
    if [[ -d $home/$folder ]]; then key_dirs+=("$folder"); fi
  done
  tar -C "$home" -cf "$dir/keys.tar" "${key_dirs[@]}"
  echo "backed up to $dir; the checkpoint it ends with:" >&2
  cat "$dir/checkpoint.note" >&2
  echo "WARNING: $dir/keys.tar holds the ledger's and the vault's private keys" \
    "${HUIYAN_LEDGER_KEY:+(and back up $HUIYAN_LEDGER_KEY too)}: move it now to a separate," \
    "encrypted place, never beside ledger.dump, and delete it here" >&2
}

restore() {
  local dir=$1 keys=$2 kept=$3
  shift 3
  [[ ! -e $home/keys ]] || die "$home already holds an instance: restore into an empty HUIYAN_HOME"
  local tables
  tables=$(psql -tAq "$pg_url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
  [[ $tables == 0 ]] || die "the database holds $tables tables: restore into an empty database"
  pg_restore --exit-on-error --no-owner --no-privileges --dbname="$pg_url" "$dir/ledger.dump"
  mkdir -p -m 700 "$home"
  tar -C "$home" -xf "$dir/files.tar"
  tar -C "$home" -xf "$keys"
  echo "restored; verifying against the kept checkpoint $kept" >&2
  huiyan ledger verify --checkpoint "$kept" "$@"
}

case ${1:-} in
  backup) [[ $# == 2 ]] || die "usage: backup.sh backup DIR"; backup "$2" ;;
  restore) [[ $# -ge 4 ]] || die "usage: backup.sh restore DIR KEYS_TAR KEPT_CHECKPOINT [verify options]"; shift; restore "$@" ;;
  *) die "usage: backup.sh backup DIR | restore DIR KEYS_TAR KEPT_CHECKPOINT [verify options]" ;;
esac
