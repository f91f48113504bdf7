#!/usr/bin/env bash
# Install bubblewrap, which the process sandbox runs every model under, when it is missing.
set -euo pipefail

command -v bwrap >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
    (apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null)
else
  echo "warning: bubblewrap is missing (Debian package bubblewrap); models will run with" \
       "weaker isolation, and the run records say so" >&2
fi
