# Waymark: `make run` to try it, `make test` to test it. Nothing else needs installing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test lint typecheck lock bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The lock files pin every package, dependencies included, with their hashes (make lock).
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

## run: install, migrate, load the demo workspace, serve on http://127.0.0.1:8000
run: $(VENV)/.installed | .env
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:8000

# Development settings of this checkout, written once (then yours to edit): manage.py reads them
# too, so a command you run by hand after `make run` runs like the server. Never deployed.
.env:
	printf '%s\n' '# Development settings, written by make run; never deploy with them.' 'DEBUG=1' > $@

## test: the whole suite (PostgreSQL/Redis/browser tests skip with a reason when absent)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy with the Django and DRF plugins on the files pyproject.toml names
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# From the default package index whatever this machine's pip settings, so any machine can install.
LOCK := PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url

## lock: rewrite requirements.lock and requirements-dev.lock from the pins of requirements*.txt
lock: $(VENV)/.installed-dev
	$(LOCK) --output-file requirements.lock requirements.txt
	$(LOCK) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

## bench: benchmarks, printed as ratios against a lower bound measured in the same run
bench: $(VENV)/.installed-dev
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_scores --features $${BENCH_FEATURES:-100000}
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_api --features 1000
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_pages --features 1000
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_digests --subscribers $${BENCH_SUBSCRIBERS:-10000}
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_portal --items 500 --votes 50000
	@if [ -n "$$REDIS_URL$$CELERY_BROKER_URL" ] && echo "$$DATABASE_URL" | grep -q '^postgres'; then \
	  DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_digest_kills --runs $${BENCH_KILL_RUNS:-4}; \
	else echo "bench_digest_kills skipped: needs DATABASE_URL=postgres://... and a broker (REDIS_URL)"; fi
	@# The scale series, 10k and 100k features (BENCH_BIG=1 adds 1M: seeding takes minutes).
	@if echo "$$DATABASE_URL" | grep -q '^postgres'; then \
	  DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_scale $$([ "$$BENCH_BIG" = 1 ] && echo --big); \
	else echo "bench_scale skipped: needs DATABASE_URL=postgres://..."; fi

$(VENV)/.installed-load: requirements-load.txt requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-load.txt
	touch $@

## loadtest: gunicorn on PostgreSQL + demo data + 1,000 features + a 100k-feature tenant, driven by locust (loopback)
loadtest: $(VENV)/.installed-load
	$(BIN)/python tests/load/run.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
