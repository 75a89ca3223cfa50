"""Level-based reconcile of the three kinds against PagerDuty: plain typed domain code, no kopf.

One function per kind serves create, update, resume and the drift timer: it reads PagerDuty,
computes the desired object through translate/, writes only the difference and returns the
complete new status with the Events to post.
"""
