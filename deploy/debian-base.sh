#!/usr/bin/env bash
# Make a Debian bookworm base image from Debian's archive, with no image registry:
#   deploy/debian-base.sh TAG PACKAGES
# mmdebstrap (--variant=apt) lays out a root file system holding PACKAGES (comma-separated)
# and `docker import` turns it into TAG. Nothing is done when TAG exists; remove it to remake
# it (a base is made once and is a few hundred MB; the images FROM it are the ones rebuilt).
set -euo pipefail

tag="$1" packages="$2"
docker image inspect "$tag" >/dev/null 2>&1 && exit 0
if ! command -v mmdebstrap >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null 2>&1 || \
    (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null)
fi
echo "debian-base: making $tag with mmdebstrap ($packages; about a minute)" >&2
mmdebstrap --quiet --variant=apt --include="$packages" bookworm - | \
  docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' \
    -m "mmdebstrap --variant=apt --include=$packages bookworm" - "$tag" >/dev/null
