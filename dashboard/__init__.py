"""Heritage Ledger: dashboard (see README)."""
