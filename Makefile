# glance-operator: the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV = $(shell hack/venv.sh)
PY = $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: venv
venv: ## create or reuse the virtualenv
	@echo "$(VENV)"

.PHONY: manifests
manifests: ## regenerate CRDs into config/crd/bases from the pydantic models
	$(PY) -m glance_operator.cli crds -o config/crd/bases

.PHONY: lint
lint: ## ruff + mypy (strict on glance_operator/api)
	$(VENV)/bin/ruff check glance_operator tests hack
	$(VENV)/bin/ruff format --check glance_operator tests hack
	$(VENV)/bin/mypy glance_operator

.PHONY: fmt
fmt: ## format the code
	$(VENV)/bin/ruff format glance_operator tests hack
	$(VENV)/bin/ruff check --fix glance_operator tests hack

.PHONY: unit
unit: ## unit tests only (no services)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

.PHONY: e2e
e2e: ## e2e only: the rendered config against real Glance, Keystone, MariaDB, RabbitMQ (tests/e2e)
	$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

.PHONY: test
test: lint ## the full suite: lint, unit, integration (real apiserver), e2e (real Glance)
	$(PY) -m pytest tests $(PYTEST_ARGS)

.PHONY: demo
demo: ## start the embedded control plane, the operator and a sample Glance, and show it Ready
	@bash hack/demo.sh

.PHONY: demo-stop
demo-stop: ## stop what make demo started
	@bash hack/demo-stop.sh

.PHONY: control-plane
control-plane: ## build the pinned etcd, kube-* and kwok binaries (once; ~17 min cold on 2 cores)
	@bash hack/build-control-plane.sh

.PHONY: cluster
cluster: control-plane ## run a local control plane (CLUSTER_DIR=...), print KUBECONFIG, block until Ctrl-C
	$(PY) -m glance_operator.testing up --dir "$${CLUSTER_DIR:-$$HOME/.cache/glance-operator/cluster}"

IMG ?= quay.io/openstack-k8s-operators/glance-operator:latest
VERSION ?= 0.0.1
CHANNELS ?= alpha
CONTAINER_TOOL ?= docker

.PHONY: bundle
bundle: ## regenerate the OLM bundle (bundle/, bundle.Dockerfile) from config/manifests (VERSION, IMG, CHANNELS)
	$(PY) hack/gen_bundle.py --version $(VERSION) --channels $(CHANNELS) $(if $(filter-out quay.io/openstack-k8s-operators/glance-operator:latest,$(IMG)),--image $(IMG))

.PHONY: docker-build
docker-build: ## build the operator image IMG (needs a container engine; none runs in this dev environment)
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: bundle-build
bundle-build: ## build the bundle image (needs a container engine)
	$(CONTAINER_TOOL) build -f bundle.Dockerfile -t $(subst glance-operator:,glance-operator-bundle:,$(IMG)) .

BENCH_SCALE ?= 25,50,100,200
CHAOS_SIZE ?= full

.PHONY: bench
bench: ## benchmark: latency to Ready, steady-state writes/CPU, scale (BENCH_SCALE=25,50,...) -> bench/results.json
	$(PY) bench/bench.py --scale "$(BENCH_SCALE)"

.PHONY: chaos
chaos: ## fault injection during convergence (CHAOS_SIZE=small|full): faults injected, recovered, objects lost
	$(PY) bench/chaos.py --size "$(CHAOS_SIZE)"
