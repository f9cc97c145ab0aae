"""Pure money rules. No I/O."""
