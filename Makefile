# Finstack: `make run` starts the platform, `make test` runs every check. Both find PostgreSQL
# and Redis (DATABASE_URL / REDIS_URL) or start embedded ones from wheels (scripts/devservices.py).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := $(BIN)/python scripts/devservices.py run --
PORT ?= 8000

.PHONY: run test check lock migrate clean schema web

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $@

.venv-semgrep/.installed: requirements/semgrep.txt
	$(PYTHON) -m venv .venv-semgrep
	.venv-semgrep/bin/python -m pip install --quiet --upgrade pip
	.venv-semgrep/bin/python -m pip install --quiet -r requirements/semgrep.txt
	touch $@

run: $(VENV)/.installed
	PORT=$(PORT) $(SERVICES) sh scripts/run.sh

test: $(VENV)/.installed .venv-semgrep/.installed
	$(SERVICES) sh scripts/test.sh $(ARGS)

lock: $(VENV)/.installed
	for f in base production dev semgrep; do \
	  $(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes \
	    requirements/$$f.in -o requirements/$$f.txt || exit 1; done

clean:
	rm -rf .data .pytest_cache .ruff_cache .venv-semgrep

# The API contract, committed: `make test` fails when the code and docs/openapi.yaml differ.
schema: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=finstack.settings.test $(BIN)/python manage.py spectacular \
	  --file docs/openapi.yaml

# The customer web app (web/): npm ci when needed, types from the schema, build into web/dist.
web:
	sh scripts/web.sh
