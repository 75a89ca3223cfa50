# syntax=docker/dockerfile:1
# oncall-operator image: `docker build -t oncall-operator .`
# Two stages: the build stage turns the source into a wheel and installs it into a virtualenv;
# the final stage copies only that virtualenv, so no pip cache, source tree or build tool ships.

# One pinned base for both stages, so the venv's interpreter path and ABI match at run time.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# Every dependency ships manylinux wheels for this base, so no compiler is installed, even here.
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/oncall-operator \
    && /opt/oncall-operator/bin/pip install --only-binary=:all: /wheels/oncall_operator-*.whl \
    && /opt/oncall-operator/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="oncall-operator" \
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
