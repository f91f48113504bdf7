#!/usr/bin/env bash
# Build huiyan's images from deploy/Dockerfile, with no image registry (docs/deploy/images.md):
#
#   deploy/images.sh [web|worker-cpu|worker-gpu|postgres|redis]...
#       (default: web worker-cpu postgres redis; worker-gpu only when named: it downloads
#        torch's CUDA build, several GB, from PyPI over the host's network)
#
# Tags: huiyan/<target>:$HUIYAN_IMAGE_TAG (default: the version in pyproject.toml). Steps:
#   1. the Debian bases, by mmdebstrap (deploy/debian-base.sh), once;
#   2. the wheelhouse in build/images/wheelhouse: the dependencies pyproject.toml names, at the
#      versions installed in .venv (what the tests ran against), made again only when
#      pyproject.toml changes; and huiyan's own wheel, made every time;
#   3. `docker build --target`, the legacy builder (this engine has no BuildKit), whose layer
#      cache makes a rebuild after a code change cost one small layer.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CONTEXT="$ROOT/build/images"
WHEELS="$CONTEXT/wheelhouse"
TAG="${HUIYAN_IMAGE_TAG:-$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("'"$ROOT"'/pyproject.toml", "rb"))["project"]["version"])')}"
APP_PACKAGES=python3,python3-venv,ca-certificates,bubblewrap
SERVICES_PACKAGES=postgresql-15,redis-server,ca-certificates
CA_BUNDLE="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"

dependencies() {  # the dependencies' wheels, at .venv's versions, once per pyproject.toml
  local stamp="$WHEELS/dependencies/.pyproject-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
  [ -e "$stamp" ] && return 0
  echo "images: collecting the dependencies' wheels (a few minutes, once per pyproject.toml)" >&2
  rm -rf "$WHEELS/dependencies" && mkdir -p "$WHEELS/dependencies"
  "$PYTHON" - "$ROOT/pyproject.toml" >"$WHEELS/dependencies/requirements.txt" <<'PY'
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))
PY
  "$PYTHON" -m pip freeze --exclude-editable >"$CONTEXT/constraints.txt"
  "$PYTHON" -m pip wheel -q --wheel-dir "$WHEELS/dependencies" -c "$CONTEXT/constraints.txt" \
    -r "$WHEELS/dependencies/requirements.txt"
  # The images' python3 is Debian's 3.11.2, older than this one: what a dependency requires
  # only below 3.11.3 is not in the wheelhouse yet (redis: async-timeout)
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS/dependencies" \
    "async-timeout>=4.0.3"
  touch "$stamp"
}

context() {
  mkdir -p "$CONTEXT/images" "$WHEELS"
  bash "$HERE/debian-base.sh" huiyan/debian:bookworm-app "$APP_PACKAGES"
  bash "$HERE/debian-base.sh" huiyan/debian:bookworm-services "$SERVICES_PACKAGES"
  dependencies
  rm -rf "$WHEELS/huiyan" && mkdir -p "$WHEELS/huiyan"
  "$PYTHON" -m pip wheel -q --no-deps --no-build-isolation --wheel-dir "$WHEELS/huiyan" "$ROOT"
  cp "$HERE"/images/*.sh "$CONTEXT/images/"
  cp "$CA_BUNDLE" "$WHEELS/ca-bundle.crt"
}

build() {  # build TARGET
  local target="$1" network=none
  [ "$target" = worker-gpu ] && network=host  # the one stage that reaches PyPI
  echo "images: building huiyan/$target:$TAG" >&2
  if ! DOCKER_BUILDKIT=0 docker build -q --network "$network" --rm -f "$HERE/Dockerfile" \
       --target "$target" -t "huiyan/$target:$TAG" "$CONTEXT" >"$CONTEXT/$target.log" 2>&1; then
    cat "$CONTEXT/$target.log" >&2
    return 1
  fi
}

targets=("${@:-web worker-cpu postgres redis}")
for target in ${targets[*]}; do
  case "$target" in
    web|worker-cpu|worker-gpu|postgres|redis) ;;
    *) echo "usage: $0 [web|worker-cpu|worker-gpu|postgres|redis]..." >&2; exit 2 ;;
  esac
done
context
for target in ${targets[*]}; do build "$target"; done
