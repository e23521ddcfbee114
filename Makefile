# netzops — the two quick-start commands are `make demo` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
NETZOPS := $(BIN)/netzops

.PHONY: bootstrap sandbox demo test test-unit lint lab down clean-outputs

bootstrap:  ## install packages, start dockerd, create .venv with netzops
	@bash scripts/bootstrap.sh

sandbox: bootstrap  ## start the Netzwächter sandbox and wait until it is healthy
	@$(NETZOPS) sandbox up

demo: sandbox  ## sandbox up, traffic, the status runbook and the daily report, with records
	@$(NETZOPS) sandbox traffic --seconds 20
	@$(NETZOPS) run service-status --target sandbox --fail-on P0
	@$(NETZOPS) report daily --target sandbox --fail-on P0

test: sandbox  ## the whole suite against the real sandbox (no skips)
	@$(BIN)/pytest -q

test-unit: bootstrap
	@$(BIN)/pytest -q tests/unit

lint: bootstrap  ## ruff check, ruff format --check, mypy --strict
	@$(BIN)/ruff check netzops tests notebooks bench
	@$(BIN)/ruff format --check netzops tests notebooks bench
	@$(BIN)/mypy

lab: sandbox  ## JupyterLab on the notebooks (py:percent files open as notebooks)
	@$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --no-browser $(if $(filter 0,$(shell id -u)),--allow-root)

down:
	@$(NETZOPS) sandbox down

clean-outputs:
	@find outputs -mindepth 1 ! -name .gitkeep -delete
