"""A Merkle tree of training-set members in OpenZeppelin's StandardMerkleTree layout (core/merkle.py)
for leaf types `["uint256", "bytes"]` (a work id and its binary CID), so that its root and proofs
are the ones `TrainingSets.isMember` and `MerkleProof.verify` accept.

Leaf: keccak256(keccak256(abi.encode(workId, cid))).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from core import merkle
from core.errors import InputError

LEAF_TYPES = ("uint256", "bytes")


def leaf_hash(work: int, cid: bytes) -> bytes:
    """The leaf of (`work`, binary `cid`): keccak256(keccak256(abi.encode(work, cid)))."""
    return keccak(keccak(encode(list(LEAF_TYPES), [work, cid])))


@dataclass(frozen=True)
class MemberTree:
    """The tree over `members` ((work id, binary CID), in the order given)."""

    members: tuple[tuple[int, bytes], ...]
    tree: merkle.Tree
    positions: dict[int, int]
    """Each member's work id → its place in `members`."""

    @classmethod
    def of(cls, members: Sequence[tuple[int, bytes]]) -> MemberTree:
        """Build the tree; InputError for an empty set or a work listed twice."""
        if not members:
            raise InputError("a training set needs at least one member")
        works = [w for w, _ in members]
        if len(set(works)) != len(works):
            twice = sorted({w for w in works if works.count(w) > 1})
            raise InputError(f"works {twice} are listed more than once in the training set: list each once")
        tree = merkle.build([leaf_hash(w, c) for w, c in members])
        return cls(tuple((int(w), bytes(c)) for w, c in members), tree, {int(w): i for i, (w, _) in enumerate(members)})

    @property
    def root(self) -> bytes:
        return self.tree.root

    def proof(self, work: int) -> list[bytes]:
        """The sibling hashes from `work`'s leaf up to the root; InputError if it is no member."""
        if work not in self.positions:
            raise InputError(f"work {work} is not a member of this training set")
        return self.tree.proof(self.positions[work])


def verify(root: bytes, work: int, cid: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` leads from the leaf of (`work`, `cid`) to `root` (as MerkleProof.verify)."""
    return merkle.verify(root, leaf_hash(work, cid), proof)
