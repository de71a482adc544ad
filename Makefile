# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test lint bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m workers.stack

test: $(VENV)/.dev
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		echo "tests on PostgreSQL ($(TEST_DATABASE_URL))"; \
		TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL not reachable: tests on SQLite"; \
		$(PY) -m pytest $(PYTEST_ARGS); \
	fi

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(VENV)/.dev
	$(PY) benchmarks/webhooks.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
