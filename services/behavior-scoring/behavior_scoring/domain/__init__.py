"""Pure scoring rules: no I/O, event time only."""
