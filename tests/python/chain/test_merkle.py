"""chain/merkle.py against @openzeppelin/merkle-tree 1.x: the roots and proofs below were printed by
`StandardMerkleTree.of(values, ["uint256", "bytes"])` and `getProof` (node, the npm package installed
outside the repo, which does not ship it: node_modules/@openzeppelin/merkle-tree is absent), for
values (7·i, 0x01551220 ‖ 32 bytes of i), i = 1…n, recorded in openzeppelin_merkle_vectors.jsonl
(the script: `tests/python/chain/openzeppelin_merkle_vectors.js`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.merkle import MemberTree, leaf_hash, verify
from core.errors import InputError

VECTORS = [json.loads(line) for line in (Path(__file__).parent / "openzeppelin_merkle_vectors.jsonl").read_text().splitlines()]


def _cid(i: int) -> bytes:
    return bytes.fromhex("01551220" + f"{i:02x}" * 32)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"n={v['n']}")
def test_root_and_proofs_match_openzeppelin(vector: dict[str, object]) -> None:
    tree = MemberTree.of([(7 * i, _cid(i)) for i in range(1, int(vector["n"]) + 1)])  # type: ignore[call-overload]
    assert "0x" + tree.root.hex() == vector["root"]
    for work, proof in vector["proofs"].items():  # type: ignore[attr-defined]
        assert ["0x" + h.hex() for h in tree.proof(int(work))] == proof


@given(st.lists(st.integers(1, 2**64), min_size=1, max_size=40, unique=True), st.data())
def test_every_member_proves_and_a_stranger_does_not(works: list[int], data: st.DataObject) -> None:
    members = [(w, bytes([w % 251]) * 36) for w in works]
    tree = MemberTree.of(members)
    for w, c in members:
        assert verify(tree.root, w, c, tree.proof(w))
    w, c = data.draw(st.sampled_from(members))
    assert not verify(tree.root, w + 2**65, c, tree.proof(w))
    assert not verify(tree.root, w, c + b"x", tree.proof(w))


def test_leaf_is_double_hashed_abi_encoding() -> None:
    assert leaf_hash(7, _cid(1)).hex() == VECTORS[0]["root"][2:]


@pytest.mark.parametrize(("members", "match"), [([], "at least one member"), ([(1, b"a"), (1, b"b")], r"\[1\]")])
def test_refuses_empty_and_duplicate_sets(members: list[tuple[int, bytes]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        MemberTree.of(members)


def test_proof_of_a_stranger_is_refused() -> None:
    with pytest.raises(InputError, match="not a member"):
        MemberTree.of([(1, b"a")]).proof(2)
