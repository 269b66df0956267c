# Two commands do all the set-up on a fresh machine: `make dev` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SERVICES := common alert-ingestion incident-management oncall-service notification-service
PYPROJECTS := $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)

.PHONY: install dev migrate downgrade test test-sqlite test-postgres lint format bench clean

$(STAMP): $(PYPROJECTS) requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt \
		$(foreach s,$(SERVICES),-e services/$(s))
	touch $(STAMP)

install: $(STAMP)

## Run the whole platform locally: migrate, then all services on :8001-8004 (Ctrl-C stops them).
## SQLite file data/platform.db unless DATABASE_URL is set.
dev: install
	$(BIN)/python scripts/dev.py

migrate: install
	$(BIN)/platform-migrate upgrade

downgrade: install
	$(BIN)/platform-migrate downgrade base

## The whole suite with coverage: PostgreSQL when TEST_DATABASE_URL is set, SQLite otherwise.
test: install
	$(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

test-sqlite: install
	env -u TEST_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres} $(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .coverage .coverage.* htmlcov
