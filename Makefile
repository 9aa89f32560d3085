# Two entry points for a fresh Debian machine: `make demo` and `make test`.
# Both set up what they need themselves (apt packages, Docker, images, the virtualenv).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# The oldest supported Airflow minor gets a virtualenv of its own, installed from its lock
# file, and runs the core tests: DAG files load, `airflow-pachyderm run` runs jobs, a real
# scheduler chains one pipeline into the next. The main virtualenv runs the newest minor.
OLDEST_AIRFLOW ?= 3.1
OLDEST_VENV := .venv-airflow-$(OLDEST_AIRFLOW)
CORE_TESTS := tests/test_dag_factory.py tests/test_supported_versions.py tests/triggers \
  tests/airflow/test_cli_run_ml_example.py \
  tests/airflow/test_triggering.py::test_unpaused_pipelines_catch_up_with_existing_data \
  tests/airflow/test_triggering.py::test_training_commit_runs_model_then_inference_once

.PHONY: demo test test-oldest-airflow lint bench host venv venv-oldest-airflow clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

$(OLDEST_VENV)/.installed: pyproject.toml constraints-airflow-$(OLDEST_AIRFLOW).txt
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/pip install --quiet -c constraints-airflow-$(OLDEST_AIRFLOW).txt -e '.[test]'
	touch $@

venv-oldest-airflow: $(OLDEST_VENV)/.installed

host:
	bash docker/setup-host.sh

demo: host venv
	$(PY) dags_examples/demo.py

test: host venv venv-oldest-airflow
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; rc=1; fi; \
	  $(MAKE) --no-print-directory test-oldest-airflow || rc=1; \
	  exit $$rc

# Core tests on the oldest supported Airflow (also run by `make test`).
test-oldest-airflow: host venv-oldest-airflow
	$(OLDEST_VENV)/bin/python -m pytest $(CORE_TESTS)

lint: venv
	$(PY) -m ruff check .

bench: host venv
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(OLDEST_VENV) .pytest_cache
