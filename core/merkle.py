"""Merkle trees as OpenZeppelin's StandardMerkleTree (npm `@openzeppelin/merkle-tree`) lays them
out, over leaf hashes the caller makes (each use has its own leaf encoding: a statement's lines in
economy/statements/merkle.py, a training set's members in chain/merkle.py). The contracts check
proofs with OpenZeppelin's MerkleProof.

Leaves are sorted by hash and laid out in a complete binary tree stored as an array (node i's
children at 2i+1 and 2i+2, the leaves at the end in reverse order); a parent is keccak256 of its
two children sorted (`hashPair`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from Crypto.Hash import keccak as _keccak

from core.errors import InputError


def keccak(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


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
    """The tree of `leaves` (leaf hashes), laid out as StandardMerkleTree does."""
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
        nodes[i] = pair(nodes[2 * i + 1], nodes[2 * i + 2])
    return Tree(tuple(nodes), tuple(positions))


def verify(root: bytes, leaf_hash: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` leads from `leaf_hash` to `root` (OpenZeppelin's MerkleProof.verify)."""
    h = leaf_hash
    for sibling in proof:
        h = pair(h, sibling)
    return h == root
