#!/bin/sh
# The postgres image's start: on an empty data folder, make the cluster (the superuser's
# password from POSTGRES_PASSWORD_FILE, password auth over TCP, no trust anywhere) and the
# database huiyan; then run the server on $POSTGRES_LISTEN (default loopback) and $PGPORT.
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ ! -r "${POSTGRES_PASSWORD_FILE:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD_FILE must name a readable file holding the superuser's password" >&2
    exit 1
  fi
  initdb --username=postgres --pwfile="$POSTGRES_PASSWORD_FILE" --auth-local=peer \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  echo "CREATE DATABASE huiyan" | postgres --single -D "$PGDATA" postgres >/dev/null
fi
exec postgres -D "$PGDATA" -p "$PGPORT" -c listen_addresses="${POSTGRES_LISTEN:-127.0.0.1}" \
  -c unix_socket_directories=/var/run/postgresql
