"""Lambda faults (actions) and observations (probes)."""
