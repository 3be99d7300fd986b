"""Heritage Ledger: api (see README)."""
