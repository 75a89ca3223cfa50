"""A kubeconfig per identity: the server URL, the generated CA as trust root, the identity's token."""

from __future__ import annotations

from pathlib import Path

import yaml

CLUSTER = "oncall-local"


def write_kubeconfig(path: Path, *, server_url: str, ca_file: Path, user: str, token: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER,
                "cluster": {"server": server_url, "certificate-authority": str(ca_file)},
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": f"{user}@{CLUSTER}", "context": {"cluster": CLUSTER, "user": user}}],
        "current-context": f"{user}@{CLUSTER}",
        "preferences": {},
    }
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)  # it holds a bearer token
    path.write_text(yaml.safe_dump(config, sort_keys=False))
