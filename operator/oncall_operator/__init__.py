"""oncall-operator: declarative on-call for Kubernetes, reconciled into PagerDuty."""

__version__ = "0.1.0"
