# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
# Each sets up what it needs on a fresh machine and can be run again.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# `make demo` ends by serving the site on 127.0.0.1:$(PORT) until Ctrl-C; `make demo SERVE=no`
# (scripts, CI) stops after the verdict.
SERVE ?= yes
PORT ?= 8000
DEMO_SERVE := $(if $(filter no,$(SERVE)),--no-serve,--port $(PORT))

.PHONY: help demo test services sandbox-tools docker-engine images browser lint

help:  ## this list (the default)
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 24

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP) sandbox-tools  ## rehearse the contest, verify the ledger, serve the site (SERVE=no: don't)
	HUIYAN_HOME=$${HUIYAN_HOME:-instance/demo} $(VENV)/bin/huiyan demo --fresh $(DEMO_SERVE)

services:  ## start PostgreSQL and Redis when they are down
	bash deploy/services.sh

sandbox-tools:  ## install bubblewrap for the process sandbox
	bash deploy/sandbox-tools.sh

docker-engine: $(STAMP)  ## install and start a Docker engine with gVisor; build the images
	bash deploy/docker-engine.sh

images: docker-engine  ## build the deployment's images (deploy/images.sh; docs/deploy/images.md)
	bash deploy/images.sh

browser:  ## install Debian's Chromium for the browser tests
	bash deploy/browser.sh

lint: $(STAMP)  ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) services sandbox-tools docker-engine browser lint  ## the whole test suite
	$(VENV)/bin/pytest -n 2 $(foreach m,$(ALONE),--ignore=$(m))  # two workers
	$(VENV)/bin/pytest $(ALONE)  # then the sandboxes' own tests, alone

# The sandboxes' own tests run after the others, one at a time: each docker test checks that no
# sandbox container is left on the engine, and the process sandbox's limits (processes per
# sandbox user) must not meet the dozens of sandboxed runs of a demo on the other worker.
# The compose stack (tests/deploy/test_compose_stack.py) runs there too: its containers take
# both cores while they start.
ALONE := tests/workers/test_sandbox_docker.py tests/workers/test_sandbox_process.py \
	tests/deploy/test_compose_stack.py
