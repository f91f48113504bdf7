# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
# Each sets up what it needs on a fresh machine and can be run again.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test services sandbox-tools docker-engine lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP) sandbox-tools
	HUIYAN_HOME=$${HUIYAN_HOME:-instance/demo} $(VENV)/bin/huiyan demo --fresh

services:
	bash deploy/services.sh

sandbox-tools:
	bash deploy/sandbox-tools.sh

docker-engine: $(STAMP)
	bash deploy/docker-engine.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) services sandbox-tools docker-engine lint
	$(VENV)/bin/pytest
