"""Chaos Toolkit controls: background user traffic, and safety (ledger, stop conditions)."""
