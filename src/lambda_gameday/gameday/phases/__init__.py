"""The game day's phases, one module each: each calls another part of the harness and
converts its result into an `Outcome` (verdict and evidence), which `common.phase_runner`
stamps into the game-day model (`PhaseResult`). Numbers are computed in
`gameday.measure`; the table of phase kinds is in `gameday.orchestrator`.
"""
