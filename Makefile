# oncall-operator — every target installs what it needs itself (a fresh machine has only Python and Go).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint unit audit crds demo demo-down controlplane-binaries go-tools emulator clean kind-e2e lint-ship version image lock chart release

# The operator (runtime package) and the testbed (emulator, control plane, demo: testbed/) are two
# distributions; development installs both, editable, with the test tools.
$(STAMP): pyproject.toml testbed/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./testbed
	touch $(STAMP)

venv: $(STAMP)

## lint: ruff, mypy (strict on the package) and the import-linter layer contracts
lint: $(STAMP)
	$(BIN)/ruff check operator testbed tests benchmarks
	$(BIN)/ruff format --check operator testbed tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## test: lint, then the whole pytest suite (the control-plane tests build kube-apiserver + etcd when missing)
test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

## unit: only the fast tests that need neither the control plane nor the network
unit: $(STAMP)
	$(BIN)/pytest -m "not controlplane and not e2e" $(PYTEST_ARGS)

## audit: pip-audit (PyPI's advisory data, --strict) on the operator's runtime dependencies as installed
audit: $(STAMP)
	$(BIN)/pytest tests/ship/test_audit.py -q -rs

## crds: regenerate crds/ from the pydantic models (and the Helm chart's copy of them)
crds: $(STAMP)
	$(BIN)/oncall-operator crds --output crds
	$(BIN)/oncall-testbed chart

## controlplane-binaries: build kube-apiserver, etcd and kubectl from upstream Go modules (skipped when present)
controlplane-binaries: $(STAMP)
	$(BIN)/oncall-testbed controlplane build

## go-tools: build the Go tools the tests use (promtool, kstatus, ...) from the Go module proxy (skipped when built)
go-tools: $(STAMP)
	$(BIN)/oncall-testbed tools build --all

## emulator: run the PagerDuty emulator in the foreground on https://127.0.0.1:8443
emulator: $(STAMP)
	$(BIN)/oncall-testbed emulator --port 8443 --token demo-token --users examples/users.yaml --ca-file .demo/emulator-ca.pem

## demo: control plane + PagerDuty emulator + operator on this machine; applies crds/ and examples/ and shows the result
demo: $(STAMP)
	$(BIN)/oncall-testbed demo

## demo-down: stop what `make demo` started
demo-down: $(STAMP)
	$(BIN)/oncall-testbed demo --down

## bench: the operator at scale on the control plane against the emulator (BENCH_ARGS="--teams 100 --drift-interval 30")
bench: $(STAMP)
	$(BIN)/oncall-operator bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## lint-ship: hadolint on the Dockerfile and shellcheck on hack/*.sh (tests/ship runs them too)
lint-ship: $(STAMP)
	$(BIN)/hadolint Dockerfile
	$(BIN)/shellcheck hack/*.sh

## version: the version of this commit, from the git tag (vX.Y.Z; between tags X.Y.devN+gHASH)
version: $(STAMP)
	@$(BIN)/python -m setuptools_scm

# The image: IMAGE (repository) and its tag, the version (no `+` in tags).
IMAGE ?= oncall-operator
VERSION = $(shell $(BIN)/python -m setuptools_scm)
IMAGE_TAG = $(shell $(BIN)/python -c 'from oncall_testbed.release.release import image_tag; print(image_tag("$(VERSION)"))')

## image: docker build the operator's image as $(IMAGE):<version> (push it with docker push)
image: $(STAMP)
	docker build --build-arg VERSION=$(VERSION) --tag $(IMAGE):$(IMAGE_TAG) .

## lock: requirements.lock, the image's runtime dependencies pinned with hashes (needs PyPI)
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-find-links --no-emit-index-url --output-file requirements.lock pyproject.toml

## chart: regenerate the Helm chart's templates, values and crds/ from deploy/base and crds/
chart: $(STAMP)
	$(BIN)/oncall-testbed chart

## release: dist/install.yaml (CRDs + operator, image pinned) and the packaged chart; HEAD must be a vX.Y.Z tag
## (IMAGE=registry/name, IMAGE_DIGEST=sha256:... to pin by digest, RELEASE_ARGS=--snapshot for any commit)
release: $(STAMP)
	$(BIN)/oncall-testbed release --image $(IMAGE) $(if $(IMAGE_DIGEST),--digest $(IMAGE_DIGEST)) --out dist $(RELEASE_ARGS)

## kind-e2e: the image end to end on a throwaway kind cluster (needs docker, kind, kubectl)
kind-e2e:
	hack/kind-e2e.sh
