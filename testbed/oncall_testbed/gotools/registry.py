"""The Go tools the tests use, each built from its pinned module in modules/<name>/.

Adding one: make `modules/NAME/` with a go.mod (`go get -tool PACKAGE@VERSION && go mod tidy`,
or a main.go importing the upstream package), commit go.mod and go.sum, and add a GoTool here.
`tests/gotools` checks every entry's module pins what it says.
"""

from __future__ import annotations

from oncall_testbed.gotools.build import GoTool, GoToolError

HELM_VERSION = "v4.3.2"  # helm.sh/helm/v4, pinned in modules/helm/go.mod
PROMETHEUS_VERSION = "3.16.0"  # github.com/prometheus/prometheus v0.316.0 is Prometheus 3.16.0

TOOLS: dict[str, GoTool] = {
    tool.name: tool
    for tool in (
        GoTool(
            name="promtool",
            package="github.com/prometheus/prometheus/cmd/promtool",
            module="github.com/prometheus/prometheus",
            description="Prometheus' rule checker and rule unit tester (promtool check/test rules)",
            ldflags=(
                "-s",
                "-w",
                f"-X github.com/prometheus/common/version.Version={PROMETHEUS_VERSION}",
            ),
        ),
        GoTool(
            name="kstatus",
            package=".",
            module="sigs.k8s.io/cli-utils",
            description=(
                "objects (JSON array) on stdin -> the status kstatus computes for each "
                "(sigs.k8s.io/cli-utils/pkg/kstatus/status, as Flux and cli-utils waiters use)"
            ),
        ),
        GoTool(
            name="helm",
            package="helm.sh/helm/v4/cmd/helm",
            module="helm.sh/helm/v4",
            description="Helm (lint, template, package, install/upgrade/uninstall of the chart)",
            ldflags=("-s", "-w", f"-X helm.sh/helm/v4/internal/version.version={HELM_VERSION}"),
        ),
        GoTool(
            name="argocd-health",
            package=".",
            module="github.com/argoproj/argo-cd/v3",
            description=(
                "argocd-cm (YAML file) + objects (JSON array) on stdin -> the health Argo CD "
                "assesses for each (its settings manager and lua.ResourceHealthOverrides, as the "
                "application controller and `argocd admin settings resource-overrides health`)"
            ),
            # Argo CD 3.6 needs Go 1.27: `auto` lets the go command fetch the go.mod's
            # `toolchain` (golang.org/toolchain from the module proxy) when the local Go is older.
            env={"GOTOOLCHAIN": "auto"},
        ),
    )
}


def get_tool(name: str) -> GoTool:
    try:
        return TOOLS[name]
    except KeyError:
        raise GoToolError(f"no Go tool named {name!r}; known: {', '.join(sorted(TOOLS))}") from None
