# syntax=docker/dockerfile:1
# oncall-operator image: `make image` (docker build --build-arg VERSION=<version> -t oncall-operator:<version> .)
# Two stages: the build stage installs the locked dependencies and the operator's wheel into a
# virtualenv; the final stage copies only that virtualenv, so no pip cache, source tree or build
# tool ships.

# One pinned base for both stages, so the venv's interpreter path and ABI match at run time.
# Pinned by tag and by digest: the tag says which Python, the digest (of the multi-platform index,
# so every platform stays pinned) makes every build use the same bytes even if the tag is re-pushed.
# This digest was not resolved here (no registry is reachable from where it was written): it is
# the index digest published for python:3.11.14-slim-bookworm in other projects' pinned
# Dockerfiles, e.g. github.com/aliyun/alibabacloud-polardb-tool-agentic-server (Dockerfile at
# commit cb11862ca61634c4eb2f1591ac12d87158655ddf). Refresh it when changing the tag and, to take
# the base image's security fixes, now and then: `hack/pin-base-image.sh` asks the registry
# (`crane digest python:<tag>` or `docker buildx imagetools inspect python:<tag>`) and rewrites
# this line; review and commit the result.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${PYTHON_IMAGE} AS build
# The package version (the release's git tag without the v); there is no .git in the context.
ARG VERSION
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ONCALL_OPERATOR=${VERSION}
WORKDIR /src
# The runtime dependencies exactly as locked, each file checked against its hash
# (requirements.lock, `make lock`); every one ships manylinux wheels, so no compiler, even here.
COPY requirements.lock ./
RUN python -m venv /opt/oncall-operator \
    && /opt/oncall-operator/bin/pip install --require-hashes --only-binary=:all: --no-deps \
       --requirement requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY operator ./operator
# The operator itself, with nothing more: pip checks the locked set satisfies what it requires.
RUN test -n "${VERSION}" || { echo "docker build needs --build-arg VERSION=<version>" >&2; exit 1; }; \
    python -m pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/oncall-operator/bin/pip install --no-deps /wheels/oncall_operator-*.whl \
    && /opt/oncall-operator/bin/pip check \
    && /opt/oncall-operator/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
ARG VERSION
LABEL org.opencontainers.image.title="oncall-operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Kubernetes operator reconciling OnCallTeam, Rotation and EscalationPolicy into PagerDuty" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/oncall-operator /opt/oncall-operator
# No .pyc writes at run time: the root filesystem is mounted read-only in deploy/.
ENV PATH=/opt/oncall-operator/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A numeric uid:gid (not a name) lets the kubelet verify runAsNonRoot without /etc/passwd.
USER 65532:65532
WORKDIR /tmp
# Defaults of ONCALL_LIVENESS_PORT (kopf liveness, /healthz) and ONCALL_METRICS_PORT (/metrics);
# `oncall-operator run` serves on whatever those variables say.
EXPOSE 8080 9090
# Every setting comes from the environment (ONCALL_*, PAGERDUTY_*); arguments may add
# --namespace=NAME (repeatable) to watch only those namespaces.
ENTRYPOINT ["oncall-operator", "run"]
