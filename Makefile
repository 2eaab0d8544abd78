# Waymark: `make run` to try it, `make test` to test it. Nothing else needs installing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
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

## bench: benchmarks, printed as ratios against a lower bound measured in the same run
bench: $(VENV)/.installed-dev
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_scores --features $${BENCH_FEATURES:-100000}
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_api --features 1000
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_pages --features 1000
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_digests --subscribers $${BENCH_SUBSCRIBERS:-10000}

$(VENV)/.installed-load: requirements-load.txt requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-load.txt
	touch $@

## loadtest: gunicorn on PostgreSQL + demo data + 1,000 features, driven by locust (loopback)
loadtest: $(VENV)/.installed-load
	$(BIN)/python tests/load/run.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
