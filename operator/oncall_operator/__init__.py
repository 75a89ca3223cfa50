"""oncall-operator: declarative on-call for Kubernetes, reconciled into PagerDuty."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The installed distribution's version: the git tag it was built from (setuptools-scm).
    __version__ = version("oncall-operator")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"
