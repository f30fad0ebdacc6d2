"""Scoring: what the responses come to, and how the items performed."""
