"""driftwatch: watches PostgreSQL environments and reports when their schemas drift apart."""

__version__ = "0.1.0"
