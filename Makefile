# Robustness jobs (docs/robustness.md). Run from the repository root.
#   make fuzz                        atheris on both targets, FUZZ_SECONDS in all (600)
#   make fuzz FUZZ_SECONDS=3600      a longer run
#   make sanitize                    the core under AddressSanitizer + UBSan, then
#                                    SANITIZE_FUZZ_SECONDS (120) of fuzzing under them

PYTHON ?= python
FUZZ_SECONDS ?= 600
SANITIZE_FUZZ_SECONDS ?= 120

.PHONY: fuzz sanitize

fuzz:
	$(PYTHON) -m fuzz --target all --seconds $(FUZZ_SECONDS) --keep-going

sanitize:
	PYTHON=$(PYTHON) FUZZ_SECONDS=$(SANITIZE_FUZZ_SECONDS) tools/sanitize.sh
