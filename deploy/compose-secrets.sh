#!/usr/bin/env bash
# Make the secrets deploy/docker-compose.yml reads from files, in DIR (default
# deploy/secrets), each readable only by the image user that needs it:
#
#   postgres_password  the database superuser's password   10001 (postgres image), 0400
#   pgpass             the same, as libpq's password file   10001 (huiyan images), 0600
#   ledger_key         the ledger's Ed25519 signing key     10001, 0400
#   metrics_token      the bearer token of GET /metrics     10001, 0400 (Prometheus's too)
#
# A file that exists is never replaced: a new ledger key would sign a history nobody can
# tie to the old one (rotate with `huiyan keys rotate` instead, docs/ledger.md). Keep a copy
# of DIR where the backups of the keys go (docs/operations.md), not beside the database's.
set -euo pipefail

DIR="${1:-$(cd "$(dirname "$0")" && pwd)/secrets}"
mkdir -p "$DIR"
chmod 0711 "$DIR"  # the containers' users reach their own file, and list nothing

if [ ! -e "$DIR/postgres_password" ]; then
  umask 077
  head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$DIR/postgres_password"
  printf '*:*:*:postgres:%s\n' "$(cat "$DIR/postgres_password")" >"$DIR/pgpass"
fi
if [ ! -e "$DIR/ledger_key" ]; then
  umask 077
  openssl genpkey -algorithm ed25519 -out "$DIR/ledger_key"
fi
if [ ! -e "$DIR/metrics_token" ]; then
  umask 077
  openssl rand -hex 32 >"$DIR/metrics_token"
fi
chown 10001:10001 "$DIR/postgres_password" "$DIR/pgpass" "$DIR/ledger_key" "$DIR/metrics_token"
chmod 0400 "$DIR/postgres_password" "$DIR/ledger_key" "$DIR/metrics_token"
chmod 0600 "$DIR/pgpass"
echo "compose-secrets: $DIR holds postgres_password, pgpass, ledger_key and metrics_token" >&2
