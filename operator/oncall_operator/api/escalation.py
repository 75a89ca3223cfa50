"""EscalationPolicy: who is paged, in which order, after how long."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, JsonValue, field_validator, model_validator

from oncall_operator.api.common import ApiModel, CommonSpec, CommonStatus, Email, LocalObjectRef


class HandoffNotifications(StrEnum):
    """When PagerDuty notifies on-call handoffs."""

    IF_HAS_SERVICES = "IfHasServices"
    ALWAYS = "Always"


class UserTarget(ApiModel):
    """A PagerDuty user paged directly, by email."""

    email: Email


class Target(ApiModel):
    """Whom a rule pages: exactly one of rotationRef or user."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.rotationRef) != has(self.user)",
                    "message": "a target needs exactly one of rotationRef or user",
                }
            ]
        }
    }

    rotation_ref: LocalObjectRef | None = Field(
        default=None, description="Page whoever the named Rotation has on call."
    )
    user: UserTarget | None = Field(default=None, description="Page this PagerDuty user.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if (self.rotation_ref is None) == (self.user is None):
            raise ValueError("a target needs exactly one of rotationRef or user")
        return self


# A target malformed in itself (neither or both of rotationRef and user) is left to Target's rule.
_TARGETS_UNIQUE_RULE: dict[str, JsonValue] = {
    "rule": "self.all(t, has(t.user) == has(t.rotationRef) || self.exists_one(u, "
    "has(t.user) ? has(u.user) && u.user.email.lowerAscii() == t.user.email.lowerAscii() "
    ": has(u.rotationRef) && u.rotationRef.name == t.rotationRef.name))",
    "message": "a rule must not page the same rotation or user twice",
}


class Rule(ApiModel):
    """One escalation level: its targets are paged together."""

    escalate_after_minutes: int = Field(
        ge=1, le=10080, description="Minutes before escalating to the next rule (at least 1)."
    )
    targets: list[Target] = Field(
        min_length=1,
        max_length=10,
        description="1 to 10 targets paged together.",
        json_schema_extra={"x-kubernetes-validations": [_TARGETS_UNIQUE_RULE]},
    )

    @field_validator("targets")
    @classmethod
    def _targets_do_not_repeat(cls, targets: list[Target]) -> list[Target]:
        seen: set[str] = set()
        for index, target in enumerate(targets):
            key = (
                f"user {target.user.email.lower()}"
                if target.user
                else f"rotation {target.rotation_ref.name if target.rotation_ref else ''}"
            )
            if key in seen:
                raise ValueError(f"targets[{index}] repeats {key}")
            seen.add(key)
        return targets


class EscalationPolicySpec(CommonSpec):
    """Desired state of a PagerDuty escalation policy."""

    team_ref: LocalObjectRef | None = Field(
        default=None, description="The OnCallTeam that owns this policy in PagerDuty."
    )
    rules: list[Rule] = Field(min_length=1, max_length=20, description="Escalation rules in order.")
    repeat: int = Field(
        default=0, ge=0, le=9, description="Times the whole policy repeats (PagerDuty num_loops)."
    )
    handoff_notifications: HandoffNotifications = Field(
        default=HandoffNotifications.IF_HAS_SERVICES,
        description="IfHasServices (default) or Always: when to notify on-call handoffs.",
    )


class EscalationPolicyStatus(CommonStatus):
    """Observed state of the PagerDuty escalation policy, written by the operator."""
