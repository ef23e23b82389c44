# The two set-up commands of the README, and the pieces they are made of. Every target creates
# what it needs (virtual environments, fonts, sample documents) and is safe to run again.
VENV ?= .venv
PY := $(VENV)/bin/python
SAMPLES ?= var/samples

.PHONY: run test setup lint samples

run: setup
	$(VENV)/bin/lexledger samples --out $(SAMPLES)
	$(VENV)/bin/lexledger process $(SAMPLES)/*.pdf

test: setup
	$(PY) -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	touch $@

lint: setup
	$(VENV)/bin/ruff check app agents inference tests bench
	$(VENV)/bin/mypy
