"""driftwatch demo: the runbook's environments on an embedded PostgreSQL."""
