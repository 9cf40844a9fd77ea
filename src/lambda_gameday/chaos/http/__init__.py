"""HTTP probes: what users see, for steady-state hypotheses."""
