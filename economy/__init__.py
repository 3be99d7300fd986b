"""Heritage Ledger: economy (see README).

- `statements/`: usage statements in (DSR-shaped files: anchored Merkle root, settlement per work
  through the router, suspense), verifiable lines and community statements out.
- `simulate.py`: the royalty simulation (catalogue, listeners, recommendation arms); its manual
  arm is settled in Python (`settlement.settle_manual`), its on-chain arms through the same
  statement path as real usage reports (`settlement.settle_onchain`), so simulated and real
  figures come from one code path.
"""
