# The two set-up commands of the README, and the pieces they are made of. Every target creates
# what it needs (virtual environments, fonts, sample documents) and is safe to run again.
VENV ?= .venv
PY := $(VENV)/bin/python
SAMPLES ?= var/samples

.PHONY: run test setup vllm-venv lint

run: setup vllm-venv
	$(VENV)/bin/lexledger samples --out $(SAMPLES)
	$(VENV)/bin/lexledger process $(SAMPLES)/*.pdf

test: setup vllm-venv
	$(PY) -m pytest -q

setup: $(VENV)/.installed

# the vLLM CPU engine's own environment (the inference tests run the real server from it)
vllm-venv:
	bash scripts/setup-vllm-venv.sh .venv-vllm

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	touch $@

lint: setup
	$(VENV)/bin/ruff check app agents inference tests bench
	$(VENV)/bin/mypy
