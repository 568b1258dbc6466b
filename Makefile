# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
HOST ?= 127.0.0.1
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test docs screenshots bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-example: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[example]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[test]'
	touch $@

run: $(VENV)/.installed-example
	$(VENV)/bin/flask --app example_app init-db
	@echo "Serving the example app at http://$(HOST):$(PORT)/  (sign in: demo@example.com / demo)"
	$(VENV)/bin/flask --app example_app run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[bench]'
	touch $@

# On demand, not part of `make test`: needs wrk and a PostgreSQL server.
bench: $(VENV)/.installed-bench
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) benchmarks/run.py $(BENCH_ARGS)

# Retake the pictures of docs/_static/screenshots/ from the browser tests.
screenshots: $(VENV)/.installed-test
	XSMS_UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/test_docs_screenshots.py

docs: $(VENV)/.installed-test
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build test-output .pytest_cache
