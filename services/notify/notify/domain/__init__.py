"""Pure notification rules: templates and rendering. No I/O."""
