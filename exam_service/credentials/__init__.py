"""Credentials candidates earn by passing a tier: Open Badges 3.0, signed once, verifiable by anyone."""
