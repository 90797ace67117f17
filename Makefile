# trygghet-analys — the two commands an analyst needs: `make report` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
YEAR ?=
DATA ?= data
OUT ?= reports
NOTEBOOKS ?=
LAB_PORT ?= 8888
# The Jupyter kernel named for the project (the notebooks of one's own analyses use it).
KERNEL := trygghet-analys
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json

.DEFAULT_GOAL := help
.PHONY: help venv lab report build test lint bench mutants lock sample-data clean

help: ## Visa kommandona
	@echo "Användning: make <mål>"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The venv is rebuilt only when pyproject.toml or the lock changed.
$(STAMP): pyproject.toml requirements.lock
	@echo "Installerar miljön i $(VENV) (första gången tar det några minuter) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.lock
	@$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python (trygghet-analys)" > /dev/null
	@touch $(STAMP)

# For a .venv made before the project kernel existed.
$(KERNEL_SPEC): $(STAMP)
	@$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python (trygghet-analys)" > /dev/null

venv: $(STAMP) $(KERNEL_SPEC) ## Skapa eller uppdatera .venv

lab: $(STAMP) $(KERNEL_SPEC) ## Öppna JupyterLab i notebooks/ för egna analyser
	@token=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(16))"); \
	echo "Startar JupyterLab i notebooks/ med kärnan \"Python (trygghet-analys)\"."; \
	echo "Öppna adressen i webbläsaren: http://127.0.0.1:$(LAB_PORT)/lab?token=$$token"; \
	echo "Börja med 4.0-egna-fragor.ipynb. Avsluta med Ctrl+C två gånger."; \
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 \
		--ServerApp.port=$(LAB_PORT) --ServerApp.port_retries=0 \
		--IdentityProvider.token=$$token \
		--MappingKernelManager.default_kernel_name=$(KERNEL)

report: $(STAMP) ## Ta fram årets rapport från data/ till reports/
	@$(BIN)/trygghet-analys report --data $(DATA) --out $(OUT) $(if $(YEAR),--year $(YEAR),) $(if $(NOTEBOOKS),--notebooks,)

build: $(STAMP) ## Bygg data/processed från data/raw
	@$(BIN)/trygghet-analys build --data $(DATA)

lint: $(STAMP) ## Kontrollera kodstil och att notebooks saknar utdata
	@$(BIN)/ruff check src tests benchmarks
	@$(BIN)/ruff format --check src tests benchmarks
	@$(BIN)/nbstripout --verify notebooks/*.ipynb

test: $(STAMP) $(KERNEL_SPEC) lint ## Kör lint och alla tester
	@$(BIN)/python -m pytest --doctest-modules src tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "Inga tester hittades: det räknas som fel."; exit 1; fi; exit $$rc

bench: $(STAMP) ## Mät prestanda i regionskala (se docs/performance.md)
	@$(BIN)/python benchmarks/run.py

mutants: $(STAMP) ## Mutationstest av statistik, fynd och uppföljning (minuter; inte i CI)
	@$(BIN)/python tests/mutants/run.py

sample-data: $(STAMP) ## Skapa om exempeldata i data/raw (medvetet!)
	@$(BIN)/trygghet-analys sample-data --out $(DATA)

lock: ## Lås om beroendena (för utvecklare)
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q -U pip setuptools wheel
	.lockvenv/bin/pip install -q -e '.[dev]'
	{ echo "# Exact versions installed by 'make' (generated with: make lock). Python 3.11."; \
	  .lockvenv/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > requirements.lock
	rm -rf .lockvenv

clean: ## Ta bort .venv och genererade filer
	rm -rf $(VENV) reports/* data/processed/*.parquet data/processed/*.csv
