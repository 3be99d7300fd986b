"""A Merkle tree of training-set members, built as OpenZeppelin's StandardMerkleTree builds one
(`@openzeppelin/merkle-tree`, leaf types `["uint256", "bytes"]`: a work id and its binary CID), so
that its root and proofs are the ones `TrainingSets.isMember` and `MerkleProof.verify` accept.

Leaf: keccak256(keccak256(abi.encode(workId, cid))). Leaves are sorted by hash; the tree is a
complete binary tree stored as an array (node i has children 2i+1 and 2i+2), leaf j at index
len(tree) − 1 − j; a parent hashes its two children sorted (`hashPair`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from core.errors import InputError

LEAF_TYPES = ("uint256", "bytes")


def leaf_hash(work: int, cid: bytes) -> bytes:
    """The leaf of (`work`, binary `cid`): keccak256(keccak256(abi.encode(work, cid)))."""
    return keccak(keccak(encode(list(LEAF_TYPES), [work, cid])))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(b"".join(sorted((a, b))))


@dataclass(frozen=True)
class MemberTree:
    """The tree over `members` ((work id, binary CID), in the order given)."""

    members: tuple[tuple[int, bytes], ...]
    tree: tuple[bytes, ...]
    positions: dict[int, int]
    """Each member's work id → its node index in `tree`."""

    @classmethod
    def of(cls, members: Sequence[tuple[int, bytes]]) -> MemberTree:
        """Build the tree; InputError for an empty set or a work listed twice."""
        if not members:
            raise InputError("a training set needs at least one member")
        works = [w for w, _ in members]
        if len(set(works)) != len(works):
            twice = sorted({w for w in works if works.count(w) > 1})
            raise InputError(f"works {twice} are listed more than once in the training set: list each once")
        hashed = sorted(((leaf_hash(w, c), i) for i, (w, c) in enumerate(members)), key=lambda x: x[0])
        n = len(hashed)
        tree: list[bytes] = [b""] * (2 * n - 1)
        positions: dict[int, int] = {}
        for j, (h, i) in enumerate(hashed):
            tree[len(tree) - 1 - j] = h
            positions[members[i][0]] = len(tree) - 1 - j
        for k in range(len(tree) - 1 - n, -1, -1):
            tree[k] = _pair(tree[2 * k + 1], tree[2 * k + 2])
        return cls(tuple((int(w), bytes(c)) for w, c in members), tuple(tree), positions)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def proof(self, work: int) -> list[bytes]:
        """The sibling hashes from `work`'s leaf up to the root; InputError if it is no member."""
        if work not in self.positions:
            raise InputError(f"work {work} is not a member of this training set")
        out = []
        i = self.positions[work]
        while i > 0:
            out.append(self.tree[i + 1 if i % 2 == 1 else i - 1])
            i = (i - 1) // 2
        return out


def verify(root: bytes, work: int, cid: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` leads from the leaf of (`work`, `cid`) to `root` (as MerkleProof.verify)."""
    h = leaf_hash(work, cid)
    for sibling in proof:
        h = _pair(h, sibling)
    return h == root
