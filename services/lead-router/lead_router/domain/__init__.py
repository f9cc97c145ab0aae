"""Pure routing rules: match, pick, explain. No I/O."""
