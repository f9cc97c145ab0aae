# One entry point for developers and CI. Every target installs what it needs first.
# The distribution's CPython 3.11 where there is one: Debian builds it with profile-guided
# optimisation, as the official images deploy/Dockerfile starts from are built; pyenv's default
# build is not, and ran customer-master's apply path ~16% slower (README, "Which Python runs the
# services"). `make PYTHON=...` picks another; an existing .venv keeps its interpreter.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := libs/contracts libs/crmkit libs/crmcli $(wildcard services/*)
PYPKGS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv proto proto-check lint typecheck check test test-fast demo bench constraints up down clean

$(STAMP): requirements/constraints.txt requirements/dev.txt $(PYPKGS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/constraints.txt -r requirements/dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-build-isolation --no-deps $(addprefix -e ,$(PACKAGES))
	touch $@

venv: $(STAMP)  ## create .venv with pinned dependencies and every package editable

proto: $(STAMP)  ## regenerate Python code from proto/
	$(BIN)/python tools/gen_proto.py

proto-check: $(STAMP)  ## fail when generated code is stale
	$(BIN)/python tools/gen_proto.py --check

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy libs/crmkit/crmkit libs/contracts/crm_contracts libs/crmcli/crm_cli \
		$(foreach s,$(wildcard services/*),$(s)/$(subst -,_,$(notdir $(s)))) tools bench

check: proto-check lint typecheck  ## static checks

test: check  ## static checks, then the whole test suite (unit, contract, integration, stack)
	$(BIN)/pytest

test-fast: $(STAMP)  ## unit and contract tests only
	$(BIN)/pytest tests/unit tests/contract

demo: $(STAMP)  ## start the embedded stack, push touchpoints through every service, print the summary
	$(BIN)/crm demo

bench: $(STAMP)  ## pipeline benchmark on the embedded stack
	$(BIN)/python bench/pipeline.py

constraints: $(STAMP)  ## re-pin constraints.txt from the current venv
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt

up: $(STAMP)
	$(BIN)/crm up

down: $(STAMP)
	$(BIN)/crm down

clean:
	rm -rf var .venv .mypy_cache .ruff_cache
