# Hanoi public-service agents platform.
#   make run    virtualenv, install, migrate the embedded SQLite database, demo data, serve
#   make test   lint, the whole suite on PostgreSQL + Redis, and the embedded-SQLite smoke run
#   make test-fast  lint and the PostgreSQL suite without the browser (tests/e2e) and the slow tests
#   make bench  the benchmarks in bench/ (need PostgreSQL and wrk; bench_relay needs Redis)
#   make worker background jobs on Redis: the outbox relay and a pool of rq workers (Ctrl-C stops both)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
REDIS_URL ?= redis://127.0.0.1:6379/0
export FLASK_APP := wsgi

.PHONY: install install-dev run worker relay test test-fast lint bench translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: install
	$(BIN)/flask db upgrade heads
	$(BIN)/flask demo load
	$(BIN)/flask demo logins
	HOST=$(HOST) PORT=$(PORT) $(BIN)/flask run --host $(HOST) --port $(PORT)

# Jobs on Redis (run the web app with the same REDIS_URL): the relay hands due outbox messages to rq,
# a pool of JOBS_WORKERS rq workers runs them without a fork per job (core.jobs.AppSimpleWorker; the pool
# replaces a worker that dies, each comes back after a Redis outage, and one of them runs rq's scheduler
# for rq's own retries). Ctrl-C stops both.
JOBS_WORKERS ?= 2
worker: install
	@queues="$$(REDIS_URL=$(REDIS_URL) $(BIN)/flask jobs queues)"; \
	REDIS_URL=$(REDIS_URL) $(BIN)/flask jobs relay & relay=$$!; \
	trap 'kill $$relay 2>/dev/null; wait $$relay 2>/dev/null' EXIT INT TERM; \
	REDIS_URL=$(REDIS_URL) $(BIN)/rq worker-pool -n $(JOBS_WORKERS) --worker-class core.jobs.AppSimpleWorker \
	  --url $(REDIS_URL) $$queues

# The relay alone (e.g. one per host, workers elsewhere: rq worker-pool --worker-class core.jobs.AppSimpleWorker
# QUEUES, or rq worker --with-scheduler --worker-class core.jobs.AppWorker QUEUES for rq's forking worker).
relay: install
	REDIS_URL=$(REDIS_URL) $(BIN)/flask jobs relay

lint: install-dev
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -n 2
	TEST_DATABASE=sqlite $(BIN)/python -m pytest -n 2 -m "smoke and not postgres"

# The inner loop: no browser, no subprocess boots or fresh-database migrations (marked slow). `make test` before pushing.
test-fast: lint
	$(BIN)/python -m pytest -n 2 -m "not slow" --ignore=tests/e2e

# After changing user-facing text: extract it, merge it into the Vietnamese catalogue, compile.
translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l vi --width 120
	$(BIN)/pybabel compile -d translations

bench: install-dev
	status=0; for b in intake webhooks relay tracking jobs load; do \
	  $(BIN)/python bench/bench_$$b.py || status=1; done; exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
