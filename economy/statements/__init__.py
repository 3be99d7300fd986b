"""Royalty statements: usage reports in (a DSR-shaped flat file), verifiable statements out.

- `dsr`: parse and validate a usage file; named errors carry the line number (nothing settles
  unless every line is valid).
- `merkle`: the Merkle tree over the lines, OpenZeppelin StandardMerkleTree-compatible.
- `submit`: match lines to works, anchor the root, settle per work in batches, hold the rest in
  suspense (chain/statements.py makes the calls).
- `trace`: a line's proof and the settlement transaction and log that credited it.
- `community`: net credits per community treasury, by work and lineage, reconciled to the router.
- `ledger`: the real ledger's figures: Theil T, Gini, Jain per period and settlement latency.
"""
