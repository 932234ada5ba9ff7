# Development jobs. Run from the repository root; the compiled modules are built in place
# and src/ is put on the path (nothing is installed).
#   make test                        the test suite
#   make lint                        ruff (lint and format check) and the layer contract
#   make typecheck                   mypy --strict on the model, reader and grid layers
#   make docs                        the documentation site (mkdocs, --strict) into site/
#   make bench                       the benchmark harness (bench/run.py; minutes)
# Robustness jobs (docs/robustness.md):
#   make fuzz                        atheris on both targets, FUZZ_SECONDS in all (600)
#   make fuzz FUZZ_SECONDS=3600      a longer run
#   make sanitize                    the core under AddressSanitizer + UBSan, then
#                                    SANITIZE_FUZZ_SECONDS (120) of fuzzing under them

PYTHON ?= python
FUZZ_SECONDS ?= 600
SANITIZE_FUZZ_SECONDS ?= 120

export PYTHONPATH := $(CURDIR)/src

.PHONY: build test lint typecheck docs bench fuzz sanitize

build:
	$(PYTHON) setup.py --quiet build_ext --inplace

test: build
	$(PYTHON) -m pytest -q -p no:cacheprovider

lint:
	ruff check src tests bench fuzz
	ruff format --check src tests bench fuzz
	lint-imports --no-cache

typecheck:
	mypy

docs:
	mkdocs build --strict

bench: build
	$(PYTHON) bench/run.py

fuzz:
	$(PYTHON) -m fuzz --target all --seconds $(FUZZ_SECONDS) --keep-going

sanitize:
	PYTHON=$(PYTHON) FUZZ_SECONDS=$(SANITIZE_FUZZ_SECONDS) tools/sanitize.sh
