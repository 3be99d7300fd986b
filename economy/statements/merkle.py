"""The Merkle tree over a statement's lines, compatible with OpenZeppelin's StandardMerkleTree
(npm `@openzeppelin/merkle-tree`) for leaf encoding ("uint256", "bytes32", "uint256"):
(line number, line hash, amount in wei).

A leaf is keccak256(keccak256(abi.encode(line, lineHash, amount))) (hashed twice against
second-preimage attacks); leaves are sorted by hash and laid out, as OpenZeppelin's library does,
in a complete binary tree stored as an array (node i's children at 2i+1 and 2i+2, the leaves at
the end in reverse order); a parent is keccak256 of its two children sorted. The contract checks
proofs with OpenZeppelin's MerkleProof (`UsageStatements.verifyLine`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from Crypto.Hash import keccak as _keccak

from core.errors import InputError


def _h(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def leaf(line: int, line_hash: bytes, amount: int) -> bytes:
    """The StandardMerkleTree leaf of (uint256 line, bytes32 lineHash, uint256 amount)."""
    return _h(_h(line.to_bytes(32, "big") + line_hash + amount.to_bytes(32, "big")))


def _pair(a: bytes, b: bytes) -> bytes:
    return _h(a + b) if a < b else _h(b + a)


@dataclass(frozen=True)
class Tree:
    nodes: tuple[bytes, ...]
    """The array tree: nodes[0] is the root."""
    positions: tuple[int, ...]
    """The tree index of each leaf, in the order the leaves were given."""

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    def proof(self, index: int) -> list[bytes]:
        """The sibling hashes from leaf `index` (in the order given) up to the root."""
        i = self.positions[index]
        out = []
        while i > 0:
            out.append(self.nodes[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return out


def build(leaves: Sequence[bytes]) -> Tree:
    """The tree of `leaves` (as `leaf` makes them), laid out as StandardMerkleTree does."""
    n = len(leaves)
    if n == 0:
        raise InputError("a Merkle tree needs at least one leaf")
    order = sorted(range(n), key=leaves.__getitem__)
    size = 2 * n - 1
    nodes: list[bytes] = [b""] * size
    positions = [0] * n
    for j, k in enumerate(order):
        nodes[size - 1 - j] = leaves[k]
        positions[k] = size - 1 - j
    for i in range(size - 1 - n, -1, -1):
        nodes[i] = _pair(nodes[2 * i + 1], nodes[2 * i + 2])
    return Tree(tuple(nodes), tuple(positions))


def verify(root: bytes, leaf_hash: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` leads from `leaf_hash` to `root` (OpenZeppelin's MerkleProof.verify)."""
    h = leaf_hash
    for sibling in proof:
        h = _pair(h, sibling)
    return h == root
