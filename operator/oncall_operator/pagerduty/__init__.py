"""pagerduty."""
