"""Heritage Ledger: ml (see README)."""
