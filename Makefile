# Company Exports: one entry point for users and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# Reinstall the virtualenv's packages whenever pyproject.toml changes.
INSTALLED := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: node-check
node-check: ## Check that this machine can run the local node (root, cgroup v1 memory, bridge netfilter) before anything is installed or built
	@PYTHONPATH=local-cluster python3 -m local_cluster.node_requirements

.PHONY: system-deps
system-deps: ## Install the Debian packages we need (PostgreSQL, buildah, mmdebstrap, containerd, runc, CNI plugins, iptables, nftables, ipset, and g++, cmake, ninja, pkg-config and libpq's headers for the ADBC driver) when missing and running as root
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then echo "[make] installing PostgreSQL from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "[make] PostgreSQL is missing: run 'sudo apt-get install postgresql' and retry"; exit 1; fi; fi
	@command -v go >/dev/null || { echo "[make] Go >= 1.26 is missing: it builds the local Kubernetes control plane"; exit 1; }
	@missing=""; for tool in buildah:buildah mmdebstrap:mmdebstrap containerd:containerd runc:runc \
	  iptables:iptables nft:nftables ipset:ipset /usr/lib/cni/bridge:containernetworking-plugins \
	  g++:g++ cmake:cmake ninja:ninja-build pkg-config:pkg-config \
	  /usr/include/postgresql/libpq-fe.h:libpq-dev; do \
	  { command -v "$${tool%%:*}" || test -e "$${tool%%:*}"; } >/dev/null || missing="$$missing $${tool#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "[make] installing$$missing from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "[make] missing:$$missing; run 'sudo apt-get install --no-install-recommends$$missing' and retry"; exit 1; fi; fi

$(INSTALLED): pyproject.toml
	@echo "[make] creating the virtualenv $(VENV) and installing packages (first run: a minute or two)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@rm -rf $(VENV)/adbc-driver && third_party/arrow-adbc/build-wheel.sh $(VENV)/adbc-driver $(VENV)/bin/pip
	@$(PY) -m pip install --quiet -e '.[dev,cluster]' $(VENV)/adbc-driver/adbc_driver_postgresql-*.whl
	@rm -f $(VENV)/.installed-* && touch $@

.PHONY: install
install: system-deps $(INSTALLED) ## Create the virtualenv and install the project with its tools

.PHONY: binaries
binaries: system-deps ## Build (once, cached) Kubernetes' control plane and node, etcd, CoreDNS, kube-router, helm and the registry
	@local-cluster/build-binaries.sh >/dev/null

.PHONY: images
images: install system-deps ## Build the two images (company-exports, company-exports-exporter) with buildah
	@$(VENV)/bin/local-cluster images

.PHONY: up
up: node-check install binaries ## Bring the whole system up locally and serve the API (leaves .local/stack.env)
	@$(VENV)/bin/local-cluster up

.PHONY: down
down: ## Stop everything `make up` started
	@test -x $(VENV)/bin/local-cluster && $(VENV)/bin/local-cluster down || true

.PHONY: status
status: ## Show what `make up` is running
	@$(VENV)/bin/local-cluster status

.PHONY: bench
bench: node-check install binaries ## One scorecard of the exporter, the API and the whole flow (about 10 min)
	@$(PY) -m benchmarks.scorecard $(BENCH_ARGS)

.PHONY: soak
soak: node-check install binaries ## Soak: 300 exports over 10 spaces, operator and API restarts (~6 min)
	@$(PY) -m benchmarks.soak $(SOAK_ARGS)

.PHONY: lint
lint: install ## ruff check, ruff format --check, mypy
	@echo "[make] ruff check"; $(VENV)/bin/ruff check .
	@echo "[make] ruff format --check"; $(VENV)/bin/ruff format --check .
	@echo "[make] mypy"; $(VENV)/bin/mypy -p export_api -p export_operator -p company_exporter \
	  -p export_contracts -p export_storage -p export_database -p export_webhooks -p local_cluster

.PHONY: format
format: install ## Format and auto-fix the code
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

.PHONY: test
test: node-check install binaries lint ## Run every test (lint, types, unit, integration, end-to-end on real servers)
	@echo "[make] pytest (starts its own etcd, kube-apiserver, kube-controller-manager, PostgreSQL, S3)"
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc = 5 ]; then echo "[make] pytest ran no tests: that is a failure"; exit 1; fi; exit $$rc
