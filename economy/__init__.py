"""Heritage Ledger: economy (see README)."""
