"""Sandbox-only faults: dependencies taken down or slowed through their SSM parameter."""
