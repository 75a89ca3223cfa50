-- Argo CD health check for oncall.dev OnCallTeam, Rotation and EscalationPolicy (one script: the
-- three kinds share the condition contract). Installed by argocd-cm-patch.yaml as
-- resource.customizations.health.oncall.dev_<Kind>; keep that file's copies identical to this one.
--   Suspended   the oncall.dev/paused annotation is "true", or Ready says Paused
--   Progressing the operator has not observed the current generation yet, or Ready is waiting
--               (WaitingForReferences, Reconciling, RateLimited, PagerDutyUnavailable, Deleting, or a
--               reason we do not know): the operator retries these by itself
--   Degraded    a real error: Synced=False (unless it only waits, e.g. RateLimited), or Ready=False
--               for InvalidSpec/PagerDutyError/Unauthorized/NoParticipants/NoCover/OwnedElsewhere
--   Healthy     Ready=True for the current generation
local hs = {}

-- Exactly the Stalled reasons of conditions.py (STALLED_REASONS), plus PagerDutyError.
local degraded_reasons = {InvalidSpec = true, PagerDutyError = true, Unauthorized = true, NoParticipants = true,
  NoCover = true, OwnedElsewhere = true}
-- The operator retries these by itself; Synced=False with one of them is no error to act on.
local waiting_reasons = {WaitingForReferences = true, Reconciling = true, RateLimited = true, Deleting = true,
  PagerDutyUnavailable = true}

local function find_condition(conditions, condition_type)
  for _, condition in ipairs(conditions) do
    if condition.type == condition_type then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

-- The operator reads the annotation case-insensitively and ignores surrounding blanks.
local function is_paused(annotations)
  if annotations == nil or annotations["oncall.dev/paused"] == nil then
    return false
  end
  local value = string.lower(tostring(annotations["oncall.dev/paused"]))
  return string.match(value, "^%s*(.-)%s*$") == "true"
end

if is_paused(obj.metadata.annotations) then
  hs.status = "Suspended"
  hs.message = "Reconciliation is paused by the oncall.dev/paused annotation"
  return hs
end

local generation = obj.metadata.generation
local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local ready = find_condition(status.conditions, "Ready")
if ready ~= nil and ready.status == "False" and ready.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(ready, "Reconciliation is paused")
  return hs
end

local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
if ready ~= nil and ready.observedGeneration ~= nil and generation ~= nil
    and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition of generation " .. tostring(generation)
  return hs
end

if ready ~= nil and ready.status ~= "True" and waiting_reasons[ready.reason] then
  hs.status = "Progressing"
  hs.message = describe(ready, "Waiting")
  return hs
end

local synced = find_condition(status.conditions, "Synced")
if synced ~= nil and synced.status == "False" and not waiting_reasons[synced.reason] then
  hs.status = "Degraded"
  hs.message = describe(synced, "The last reconcile failed")
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end
if ready.status == "False" and degraded_reasons[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready, "Not ready")
  return hs
end
hs.status = "Progressing"
hs.message = describe(ready, "Not ready yet")
return hs
