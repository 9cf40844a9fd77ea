"""pytest plugin for SLO gates (options, fixtures, markers). Being built for issue 7."""
