#!/usr/bin/env bash
# Build the docker sandbox's images locally (no image registry is needed), each only when it is
# missing or out of date:
#
#   huiyan/base:bookworm   Debian bookworm with python3 and numpy, made by mmdebstrap from
#                          Debian's archive and `docker import`ed (about 30 s); runs as root,
#                          so the sandbox refuses it as a model image
#   huiyan/runner:light    the base, run as 65534:65534: runs bundle folders that need only the
#                          standard library and numpy (the hostile-model tests)
#   huiyan/runner:stack    the light runner plus the worker's own torch, MONAI, SimpleITK and
#                          numpy (the versions in the worker's Python, torch from the wheel on
#                          disk): the runner of bundle folders in production
#
# Usage: deploy/sandbox-images.sh [base|light|stack]...   (default: all three)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PYTHON="${PYTHON_FOR_STACK:-$ROOT/.venv/bin/python}"
BASE=huiyan/base:bookworm
LIGHT=huiyan/runner:light
STACK=huiyan/runner:stack
STACK_LABEL=org.huiyan.stack
PACKAGES=python3,python3-numpy,python-is-python3,ca-certificates

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

build() {  # build TAG from a Dockerfile on stdin, with CONTEXT (default: an empty folder)
  local tag="$1" context="${2:-}" empty=""
  if [ -z "$context" ]; then empty="$(mktemp -d)"; context="$empty"; fi
  cat >"$context/Dockerfile"
  # the legacy builder: the engine has no BuildKit, and it warns of that on every build
  if ! DOCKER_BUILDKIT=0 docker build -q --network none --rm -t "$tag" "$context" \
       >"$context.log" 2>&1; then
    cat "$context.log" >&2
    return 1
  fi
  rm -f "$context/Dockerfile" "$context.log"
  [ -z "$empty" ] || rm -rf "$empty"
}

base() {
  bash "$HERE/debian-base.sh" "$BASE" "$PACKAGES"
}

light() {
  has_image "$LIGHT" && return 0
  base
  echo "sandbox-images: building $LIGHT" >&2
  build "$LIGHT" <<EOF
FROM $BASE
USER 65534:65534
WORKDIR /tmp
EOF
}

stack() {
  local versions current context
  versions="$("$PYTHON" -c 'from importlib.metadata import version
print(" ".join(f"{d}=={version(d)}" for d in ("torch", "monai", "SimpleITK", "numpy")))')"
  current="$(docker image inspect -f "{{index .Config.Labels \"$STACK_LABEL\"}}" "$STACK" 2>/dev/null || true)"
  [ "$current" = "$versions" ] && return 0
  light
  echo "sandbox-images: building $STACK ($versions; a few minutes)" >&2
  context="$(mktemp -d)"
  # the worker's pip resolves from its own configuration (the wheels on disk first); the
  # runner's python3 is Debian's 3.11, the ABI of these wheels
  if ! "$PYTHON" -m pip install -q --target "$context/site" $versions >"$context.log" 2>&1; then
    cat "$context.log" >&2
    return 1
  fi
  rm -f "$context.log"
  rm -rf "$context/site/bin"
  build "$STACK" "$context" <<EOF
FROM $LIGHT
COPY site /usr/local/lib/python3.11/dist-packages/
LABEL $STACK_LABEL="$versions"
EOF
  rm -rf "$context"
}

for target in "${@:-base light stack}"; do
  for one in $target; do
    case "$one" in
      base|light|stack) "$one" ;;
      *) echo "usage: $0 [base|light|stack]..." >&2; exit 2 ;;
    esac
  done
done
