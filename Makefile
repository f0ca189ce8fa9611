# StreamFlow: the two commands are `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
AIRFLOW_VENV := $(or $(STREAMFLOW_AIRFLOW_VENV),.venv-airflow)
BIN_RELEASE := build/release/src/apps/streamflow
BIN_CI      := build/ci/src/apps/streamflow
# rustup's cargo (the CQL bridge in src/cql/rust) is usually not on a non-login shell's PATH.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
CXX_SOURCES  = $(shell git ls-files --cached --others --exclude-standard 'src/*.cc' 'src/*.h' 2>/dev/null)

.PHONY: help setup web build build-ci run up down status logs check test test-unit test-rust \
        test-python-unit test-integration format format-check lint-python typecheck-python \
        check-generated bench-stack bench-ingest bench-serve bench bench-ceiling bench-avro bench-cost bench-cluster test-faults test-cluster clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: ## install Debian packages, JVM artifacts and the Python venv (skips what is there)
	@bash deps/setup.sh

build: setup web ## optimised build of the streamflow binary and the dashboard
	@cmake --preset release >/dev/null
	@cmake --build --preset release

web: setup ## type-check and build the dashboard into web/dist (served by `streamflow serve`)
	@cd web && npm run --silent build >/dev/null && echo "==> dashboard built into web/dist"

build-ci: setup web ## sanitizer build (ASan + UBSan, warnings as errors) with the unit tests
	@cmake --preset ci >/dev/null
	@cmake --build --preset ci

RUN_INTERVAL ?= 2
RUN_SECONDS ?=
# Airflow's CLI prints its own banner and warnings; we want one line.
# The hourly reconcile runs from then on too (the control room alerts on a failed one); only
# the feed is paused again on Ctrl-C.
UNPAUSE = for dag in streamflow_ingest streamflow_reconcile; do \
	    for i in $$(seq 90); do \
	      $(BIN_RELEASE) airflow dags unpause $$dag >/dev/null 2>&1 && continue 2; sleep 1; \
	    done; echo "$$dag did not appear in Airflow within 90 s: see 'streamflow logs airflow-dags'" >&2; exit 1; \
	  done

run: build ## start the stack (with Airflow) and run the pipeline live: Airflow's streamflow_ingest -> ... -> Cassandra (Ctrl-C pauses the feed)
	@$(BIN_RELEASE) up
	@echo
	@echo "==> Dashboard: http://127.0.0.1:$${STREAMFLOW_SERVE_PORT:-8090}/  (live counters, charts, pipeline health)"
	@echo "==> Control room: http://127.0.0.1:$${STREAMFLOW_SERVE_PORT:-8090}/#control  (brokers, topics, messages, lag, connectors, alerts;"
	@echo "    its actions need the token 'streamflow status' shows)"
	@echo "==> Airflow drives ingestion: unpausing the DAGs streamflow_ingest (continuous runs of 5,000 users"
	@echo "    from $${STREAMFLOW_INGEST_URL:-the local mock API}) and streamflow_reconcile (hourly). Airflow UI: http://127.0.0.1:$${STREAMFLOW_AIRFLOW_PORT:-8080}/"
	@echo "    (user admin, password in $${STREAMFLOW_STATE_DIR:-.streamflow}/airflow/simple_auth_manager_passwords.json.generated)."
	@echo "    One block per $(RUN_INTERVAL) s below; Ctrl-C pauses the DAG and ends this view$(if $(RUN_SECONDS),, (or set RUN_SECONDS=n)); the stack keeps running."
	@($(UNPAUSE))
	@trap '$(BIN_RELEASE) airflow dags pause streamflow_ingest >/dev/null 2>&1 && echo "streamflow_ingest paused"' EXIT; \
	  $(BIN_RELEASE) watch -i $(RUN_INTERVAL) $(if $(RUN_SECONDS),-n $$(( $(RUN_SECONDS) / $(RUN_INTERVAL) )),) || true
	@echo "Next: 'make status', 'make logs', 'streamflow reconcile', 'streamflow cql \"SELECT * FROM users LIMIT 5\"', 'make down'."

up: build ## start the local stack
	@$(BIN_RELEASE) up

down: ## stop the local stack (data is kept in .streamflow/)
	@if [ -x $(BIN_RELEASE) ]; then $(BIN_RELEASE) down; elif [ -x $(BIN_CI) ]; then $(BIN_CI) down; fi

status: ## show each service with pid, port, health and version
	@$(BIN_RELEASE) status

logs: ## last lines of every service log
	@$(BIN_RELEASE) logs

check: build-ci format-check lint-python typecheck-python check-generated test-unit test-rust test-python-unit ## the quick tier: format, lint, types, generated files, every unit test (no servers)
	@echo "==> make check: all passed"

test: check test-integration ## install everything and run every test (the quick tier, then every suite on real stacks)

test-unit: build-ci ## GoogleTest unit tests (no servers)
	@ctest --preset ci

# In the sanitizer build's own cargo target directory, with the C++ compiler CMake gave it: the
# crates it compiled for the bridge are reused (the crate's tests then build in ~30 s, not ~2 min).
test-rust: build-ci ## the Rust tests of the CQL bridge (cargo test, no Cassandra)
	@CXX="$$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' build/ci/CMakeCache.txt)" \
	  cargo test --quiet --release --locked --manifest-path src/cql/rust/Cargo.toml \
	  --target-dir build/ci/src/cql/cargo

test-python-unit: setup ## pytest's unit tier: the Spark job's transforms on local DataFrames, its helpers, the DAG files (no servers)
	@$(VENV)/bin/pytest -m unit -q tests

typecheck-python: setup ## mypy, strict, on the Spark job, the test harness and the bench scripts; the DAG files against Airflow's venv
	@$(VENV)/bin/mypy --exclude 'tests/airflow/(run_dag|check_dagbag)\.py' pipeline/spark tests bench
	@MYPYPATH=pipeline/airflow/dags $(VENV)/bin/mypy --python-executable $(AIRFLOW_VENV)/bin/python \
	  pipeline/airflow/dags tests/airflow/run_dag.py tests/airflow/check_dagbag.py

check-generated: ## the golden vectors and the saved-payload corpus are what their generators write
	@python3 tests/golden/generate.py --check
	@python3 tests/corpus/generate.py --check

# --durations: where the suite's time goes is printed at the end of every run (the slowest 30).
test-integration: build-ci ## pytest against the real services (own ports and state dirs), the fault suite included
	@STREAMFLOW_BIN=$(BIN_CI) $(VENV)/bin/pytest -m "not unit" --durations=30 tests

lint-python: setup ## ruff over the Spark job, the test harness and the bench scripts (ruff.toml)
	@$(VENV)/bin/ruff check pipeline tests bench

format: ## apply clang-format to the C++ sources
	@clang-format -i $(CXX_SOURCES)

format-check: ## fail when a C++ source is not clang-formatted
	@clang-format --dry-run -Werror $(CXX_SOURCES)

bench-stack: build ## measure `up` time and the stack's memory as `make run` starts it (idle, then with users flowing) into bench/results/stack.json (STACK_MAKE_TEST=1: fresh-clone `make test` time too)
	@bash bench/stack.sh

bench-ingest: build ## ingest throughput vs psql COPY into bench/results/ingest.json (+ mock_api.json)
	@bash bench/ingest.sh

bench-serve: build ## constant-rate load (vegeta) on the main read endpoints into bench/results/serve.json
	@bash bench/serve.sh

bench: build ## `streamflow bench` flat out, then at half that rate: per-stage throughput vs baselines, freshness, memory/CPU, charts (bench/results/pipeline*.json, .png, e2e.json)
	@bash bench/pipeline.sh

bench-avro: build ## the ceiling measured with JSON, then with Avro on the CDC topic (bytes per event, CPU per user by service, users/s) into bench/results/avro.json
	@bash bench/avro.sh

bench-cost: build ## what a user costs, before (the baseline commit, built in a worktree) and after, on this machine in one run: CPU per user by service, users/s against raw Cassandra, freshness, serve under load, a 10-minute sustained run, into bench/results/cost.json
	@bash bench/cost.sh

bench-cluster: build ## the pipeline on the single-node layout, then on the cluster layout (deploy/cluster-local.yaml): users/s, freshness and the whole stack's memory of each into bench/results/cluster.json
	@bash bench/cluster.sh

bench-ceiling: build ## the pipeline's two halves measured apart (Spark paused, then alone): CPU per user by service and the highest rate this machine allows, into bench/results/ceiling.json
	@bash bench/ceiling.sh

test-faults: build-ci ## the fault suite alone (part of `make test`): 72 bad-input cases and SIGKILL of every component
	@STREAMFLOW_BIN=$(BIN_CI) $(VENV)/bin/pytest tests/faults

test-cluster: build-ci ## the cluster layout alone (part of `make test`): deploy/cluster-local.yaml, 20,000 users, a SIGKILL of one node of each engine
	@STREAMFLOW_BIN=$(BIN_CI) $(VENV)/bin/pytest tests/cluster

clean: ## remove build outputs (keeps .deps/, .venv/ and .streamflow/)
	@rm -rf build
