"""Release tooling: the Helm chart generated from deploy/base, and `make release`'s artefacts."""
