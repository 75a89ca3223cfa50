"""oncall-testbed: what runs oncall-operator on one machine without a cluster or a PagerDuty account.

The PagerDuty REST emulator (`emulator`), a real local kube-apiserver + etcd built from upstream
Go modules (`controlplane`) and the demo that puts them together with the operator (`demo`).
It is a second distribution beside the operator: the operator's package and image never import it.
"""
