"""Compatibility shims for third-party test libraries."""
