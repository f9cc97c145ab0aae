"""lead-router: every lead ends somewhere on purpose, and says why (分配溯源)."""
