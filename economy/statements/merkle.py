"""The Merkle tree over a statement's lines (core/merkle.py's StandardMerkleTree layout) for the
leaf encoding ("uint256", "bytes32", "uint256"): (line number, line hash, amount in wei).

A leaf is keccak256(keccak256(abi.encode(line, lineHash, amount))) (hashed twice against
second-preimage attacks). The contract checks proofs with OpenZeppelin's MerkleProof
(`UsageStatements.verifyLine`).
"""

from __future__ import annotations

from core.merkle import Tree, build, keccak, verify

__all__ = ["Tree", "build", "keccak", "leaf", "verify"]


def leaf(line: int, line_hash: bytes, amount: int) -> bytes:
    """The StandardMerkleTree leaf of (uint256 line, bytes32 lineHash, uint256 amount)."""
    return keccak(keccak(line.to_bytes(32, "big") + line_hash + amount.to_bytes(32, "big")))
