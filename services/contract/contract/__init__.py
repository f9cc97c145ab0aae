"""contract: opportunities, contracts, payment plans, payments and reconciliation."""
