"""Kopf glue: the only package that imports kopf. Importing it registers every handler."""

from oncall_operator.handlers import escalation, indexes, rotation, startup, team

__all__ = ["escalation", "indexes", "rotation", "startup", "team"]
