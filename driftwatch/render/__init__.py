"""Renderers: pure functions from comparison results to text; no I/O here."""
