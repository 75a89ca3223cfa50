#!/usr/bin/env bash
# make kind-e2e: the operator image end to end on a throwaway kind cluster.
# Creates the cluster, builds and loads the operator image and the emulator's own small image
# (testbed/Dockerfile), installs the CRDs, deploys the PagerDuty
# emulator and the operator (deploy/overlays/kind-e2e), applies examples/, waits until every
# object is Ready (the paused example: Ready=False with reason Paused), then deletes the cluster.
# Needs docker, kind and kubectl. KEEP_CLUSTER=1 keeps the cluster for a look afterwards.
set -euo pipefail

cd "$(dirname "$0")/.."

CLUSTER="${KIND_CLUSTER_NAME:-oncall-e2e}"
IMAGE="oncall-operator:e2e"          # the tags deploy/overlays/kind-e2e deploys
EMULATOR_IMAGE="oncall-testbed:e2e"
TIMEOUT="${E2E_TIMEOUT:-300s}"
KEEP_CLUSTER="${KEEP_CLUSTER:-0}"
KINDS="oncallteams.oncall.dev,rotations.oncall.dev,escalationpolicies.oncall.dev"
OPERATOR_NS="oncall-operator"
EMULATOR_NS="oncall-e2e"

log() { printf 'kind-e2e: %s\n' "$*" >&2; }

for tool in docker kind kubectl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool is required (this target runs only where Docker is available)"
    exit 2
  fi
done

kctl() { kubectl --context "kind-${CLUSTER}" "$@"; }

diagnose() {
  log "failed; what the cluster looked like:"
  kctl get "${KINDS}" --all-namespaces -o wide || true
  kctl -n "${OPERATOR_NS}" logs deployment/oncall-operator --tail=200 || true
  kctl -n "${EMULATOR_NS}" logs deployment/pagerduty-emulator --tail=50 || true
}

finish() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    diagnose
  fi
  if [ "${KEEP_CLUSTER}" = "1" ]; then
    log "keeping cluster ${CLUSTER} (kind delete cluster --name ${CLUSTER})"
  else
    kind delete cluster --name "${CLUSTER}" || true
  fi
  exit "$rc"
}

log "creating kind cluster ${CLUSTER}"
kind create cluster --name "${CLUSTER}" --wait 120s
trap finish EXIT

log "building ${IMAGE} and ${EMULATOR_IMAGE}"
# The package version from the git tag, as `make image` gives it (the context has no .git).
version="$(.venv/bin/python -m setuptools_scm 2>/dev/null || echo 0.0.0.dev0)"
docker build --build-arg VERSION="${version}" --tag "${IMAGE}" .
docker build --tag "${EMULATOR_IMAGE}" testbed
kind load docker-image "${IMAGE}" "${EMULATOR_IMAGE}" --name "${CLUSTER}"

log "installing the CRDs"
kctl apply -f crds/
kctl wait --for=condition=Established --timeout=60s -f crds/

log "creating the secrets and config the manifests reference"
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for ns in "${OPERATOR_NS}" "${EMULATOR_NS}"; do
  kctl create namespace "$ns" --dry-run=client -o yaml | kctl apply -f -
  kctl -n "$ns" create secret generic pagerduty-api-token --from-literal=token="${token}"
done
kctl -n "${EMULATOR_NS}" create configmap pagerduty-emulator-users --from-file=users.yaml=examples/users.yaml

log "deploying the emulator and the operator"
kctl apply -k deploy/overlays/kind-e2e
kctl -n "${EMULATOR_NS}" rollout status deployment/pagerduty-emulator --timeout="${TIMEOUT}"
# The operator trusts the emulator's self-signed CA, which exists only once the emulator runs.
ca_file="$(mktemp)"
kctl -n "${EMULATOR_NS}" exec deployment/pagerduty-emulator -- cat /var/run/emulator/ca.pem >"${ca_file}"
kctl -n "${OPERATOR_NS}" create configmap pagerduty-emulator-ca --from-file=ca.pem="${ca_file}"
rm -f "${ca_file}"
kctl -n "${OPERATOR_NS}" rollout status deployment/oncall-operator --timeout="${TIMEOUT}"

log "applying examples/ (features/adopt needs a real PagerDuty team and is left out)"
kctl apply -f examples/virtual-team/
kctl apply -f examples/features/00-namespace.yaml
for dir in examples/features/*/; do
  if [ "$(basename "$dir")" != "adopt" ]; then
    kctl apply -f "$dir"
  fi
done

log "waiting for every example to become Ready"
paused="$(kctl get -f examples/features/paused/ -o name)"
for ns in oncall oncall-features; do
  for object in $(kctl -n "$ns" get "${KINDS}" -o name); do
    if grep -qxF "$object" <<<"$paused"; then
      kctl -n "$ns" wait "$object" --timeout="${TIMEOUT}" --for=condition=Ready=false
      reason="$(kctl -n "$ns" get "$object" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')"
      if [ "$reason" != "Paused" ]; then
        log "$ns/$object should be paused, but Ready's reason is ${reason:-empty}"
        exit 1
      fi
    else
      kctl -n "$ns" wait "$object" --timeout="${TIMEOUT}" --for=condition=Ready
    fi
  done
done

if kctl -n "${OPERATOR_NS}" logs deployment/oncall-operator | grep -q 'Forbidden'; then
  log "the operator's log shows a Forbidden answer: deploy/ RBAC is missing a permission"
  exit 1
fi
kctl get "${KINDS}" --all-namespaces
log "passed"
