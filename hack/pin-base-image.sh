#!/usr/bin/env bash
# Pin the Dockerfile's base image to the digest its tag points at now:
#   ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm            (tag only)
#   ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:…   (tag and the digest of its index)
# Run it when changing the tag and, to take the base image's security fixes, now and then; review
# and commit the result. The digest is the multi-platform index's, so every platform stays pinned.
# Needs `crane` (go-containerregistry) or `docker buildx` and access to the registry.
# Usage: hack/pin-base-image.sh [DOCKERFILE]   (default: the repository's Dockerfile)
set -euo pipefail

dockerfile="${1:-$(dirname "$0")/../Dockerfile}"
line="$(grep -E '^ARG PYTHON_IMAGE=' "${dockerfile}")" || {
  echo "pin-base-image: no 'ARG PYTHON_IMAGE=' line in ${dockerfile}" >&2
  exit 1
}
image="${line#ARG PYTHON_IMAGE=}"
tag="${image%%@*}"

if command -v crane >/dev/null 2>&1; then
  digest="$(crane digest "${tag}")"
elif command -v docker >/dev/null 2>&1; then
  digest="$(docker buildx imagetools inspect "${tag}" --format '{{json .Manifest}}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')"
else
  echo "pin-base-image: needs crane or docker buildx to ask the registry for ${tag}'s digest" >&2
  exit 1
fi

if [[ ! "${digest}" =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "pin-base-image: the registry answered '${digest}', not a sha256 digest" >&2
  exit 1
fi
sed -i "s|^ARG PYTHON_IMAGE=.*|ARG PYTHON_IMAGE=${tag}@${digest}|" "${dockerfile}"
echo "pin-base-image: ${dockerfile}: ARG PYTHON_IMAGE=${tag}@${digest}"
