# netzops — the two quick-start commands are `make demo` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
NETZOPS := $(BIN)/netzops

.PHONY: help bootstrap sandbox demo test test-unit lint lab down clean-outputs
.DEFAULT_GOAL := help
PORT ?= 8888
OUTPUTS := $(or $(NETZOPS_OUTPUTS),outputs)
TOKEN ?=

help:  ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: make lab PORT=8888 TOKEN=secret   (TOKEN empty: Jupyter makes one and prints it)"

bootstrap:  ## install packages, start dockerd, create .venv with netzops
	@bash scripts/bootstrap.sh

sandbox: bootstrap  ## start the Netzwächter sandbox and wait until it is healthy
	@$(NETZOPS) sandbox up

demo: sandbox  ## sandbox up, traffic, the status runbook and the daily report, with records
	@$(NETZOPS) sandbox traffic --seconds 20
	@$(NETZOPS) run service-status --target sandbox --fail-on P0
	@$(NETZOPS) report daily --target sandbox --fail-on P0

test: sandbox  ## the whole suite against the real sandbox (no skips)
	@$(BIN)/pytest -q --durations=15

test-unit: bootstrap  ## fast tests without the sandbox
	@$(BIN)/pytest -q tests/unit

lint: bootstrap  ## ruff check, ruff format --check, mypy --strict
	@$(BIN)/ruff check netzops tests notebooks bench
	@$(BIN)/ruff format --check netzops tests notebooks bench
	@$(BIN)/mypy

lab: sandbox  ## JupyterLab: runbooks read-only, sessions under outputs/ (PORT=, TOKEN=)
	@$(BIN)/python -m netzops.runner.lab >/dev/null
	@echo "runbooks: http://127.0.0.1:$(PORT)/netzops  (start a session there; sources stay read-only)"
	@NETZOPS_ROOT=$(CURDIR) $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --ServerApp.ip=127.0.0.1 \
		--ServerApp.contents_manager_class=netzops.runner.lab.ContentsManager \
		--ServerApp.port=$(PORT) --ServerApp.port_retries=0 --no-browser \
		$(if $(TOKEN),--IdentityProvider.token=$(TOKEN)) $(if $(filter 0,$(shell id -u)),--allow-root)

down:  ## stop and remove the sandbox's containers (data volumes stay)
	@$(NETZOPS) sandbox down

clean-outputs:  ## delete records and sessions; the ledger stays and notes what was pruned
	@$(NETZOPS) records prune --all
	@find $(OUTPUTS) -mindepth 1 ! -name .gitkeep ! -name 'ledger.*' ! -type d -delete
	@find $(OUTPUTS) -mindepth 1 -type d -empty -delete
