# Two commands do all the set-up on a fresh machine: `make dev` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SERVICES := common alert-ingestion incident-management oncall-service notification-service
# database/ is installable too: platform_db, the models every service and the migrations share.
# common-testing (platform_testing) is the suites' support: installed here for
# the tests, a dependency of no service, so it stays out of their images.
PYPROJECTS := $(foreach s,$(SERVICES),services/$(s)/pyproject.toml) database/pyproject.toml \
	services/common-testing/pyproject.toml tools/alert-generator/pyproject.toml

.PHONY: install dev observe demo dashboards migrate downgrade test faults bench lint format clean

$(STAMP): $(PYPROJECTS) requirements-dev.txt constraints.txt
	@echo "Installing the platform, its tools and its pinned dependencies into $(VENV) (about a minute the first time)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt \
		$(foreach s,$(SERVICES),-e services/$(s)) -e database -e services/common-testing \
		-e tools/alert-generator
	touch $(STAMP)

install: $(STAMP)

## Run the whole platform locally: migrate, then all services on :8001-8004 (Ctrl-C stops them).
## On DATABASE_URL when set, else on an embedded PostgreSQL (data in data/dev-pg) started and stopped with them.
dev: install
	$(BIN)/python scripts/dev.py

## Prometheus alone (Debian's package, monitoring/rules) against a `make dev` already running;
## `make dev` starts it too unless DEV_PROMETHEUS=0. UI on http://127.0.0.1:9090.
observe: install
	$(BIN)/python scripts/observe.py

## Synthetic alert traffic into a `make dev` running (tools/alert-generator); its API on :8090/docs.
demo: install
	$(BIN)/python scripts/demo.py

## Regenerate monitoring/grafana/dashboards/*.json from monitoring/dashboards.py.
dashboards: install
	$(BIN)/python monitoring/dashboards.py

## Alembic up to head / down to base on the same database as `make dev`.
migrate: install
	$(BIN)/python scripts/dev.py migrate

downgrade: install
	$(BIN)/python scripts/dev.py downgrade

## The whole suite with coverage: on TEST_DATABASE_URL's server when set, else
## on an embedded PostgreSQL (data in data/test-pg) started and stopped by the run.
test: install
	$(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

## Faults under steady load (bench/faults.py): every service SIGKILLed and
## SIGTERMed in turn, one of two alert-ingestion replicas SIGKILLed, PostgreSQL
## restarted; prints the table of docs/RELIABILITY.md. FAULTS_ARGS=--long runs the
## long ones instead (10-minute outages, PostgreSQL away 30 s, a webhook failing
## or hanging 5 minutes: about 45 minutes). A PostgreSQL of its own (embedded),
## never the machine's. FAULTS_ARGS e.g. --rate 20.
faults: install
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

## The scorecard (bench/scorecard.py): every benchmark in one go, one table of their
## figures written into bench/README.md with the date, commit and machine (about an
## hour; BENCH_ARGS=--quick about 15 minutes). On BENCH_DATABASE_URL's server when
## set, else on an embedded PostgreSQL. Needs wrk and pgbench, as .ci/run installs them.
bench: install
	$(BIN)/python bench/scorecard.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .coverage .coverage.* htmlcov
