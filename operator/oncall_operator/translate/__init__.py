"""Pure translation: validated specs + resolved references -> PagerDuty documents, and
PagerDuty documents -> a normal form for drift. No I/O, no clock, no kopf."""
